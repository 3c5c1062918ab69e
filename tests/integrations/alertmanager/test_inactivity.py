"""Inactivity timeout: incidents of senders that never resolve are resolved by the beat sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.integrations.alertmanager.inactivity import incidents_resolve_inactive
from incidents.integrations.alertmanager.models import Alert, AlertStatus
from incidents.integrations.alertmanager.tasks import alertmanager_inactivity_sweep
from incidents.models import EventKind, Incident, Source, Status

from .webhook_support import alert, make_hook, payload

pytestmark = pytest.mark.django_db


def quiet_for(incident: Incident, delta: timedelta) -> None:
    Alert.objects.filter(incident=incident).update(last_seen_at=timezone.now() - delta)


def test_it_resolves_an_incident_whose_alerts_went_quiet(db) -> None:
    hook = make_hook(inactivity_timeout=timedelta(minutes=30))
    hook.post(payload([alert("web-1"), alert("web-2")]))
    incident = Incident.objects.get()
    quiet_for(incident, timedelta(minutes=31))

    assert alertmanager_inactivity_sweep() == 1  # what beat runs

    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    event = incident.events.get(kind=EventKind.RESOLVED)
    assert event.source == Source.SCHEDULER
    assert "No alert seen for 30m" in event.message
    assert set(incident.alerts.values_list("status", flat=True)) == {AlertStatus.RESOLVED}


def test_it_leaves_an_incident_with_a_recent_alert_open(db) -> None:
    hook = make_hook(inactivity_timeout=timedelta(minutes=30))
    hook.post(payload([alert("web-1"), alert("web-2")]))
    incident = Incident.objects.get()
    quiet_for(incident, timedelta(hours=2))
    Alert.objects.filter(labels__instance="web-2").update(last_seen_at=timezone.now() - timedelta(minutes=5))

    assert incidents_resolve_inactive() == []
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED


def test_it_never_times_out_integrations_without_a_timeout(db) -> None:
    hook = make_hook()
    hook.post(payload([alert("web-1")]))
    quiet_for(Incident.objects.get(), timedelta(days=30))

    assert incidents_resolve_inactive() == []


def test_it_resolves_each_incident_once_however_often_it_runs(db) -> None:
    hook = make_hook(inactivity_timeout=timedelta(minutes=10))
    hook.post(payload([alert("web-1")]))
    incident = Incident.objects.get()
    quiet_for(incident, timedelta(minutes=11))

    first = incidents_resolve_inactive()
    second = incidents_resolve_inactive()

    assert (first, second) == ([incident.pk], [])
    assert incident.events.filter(kind=EventKind.RESOLVED).count() == 1


def test_it_finds_overdue_incidents_from_the_database_alone(db) -> None:
    # No broker timer was ever set: the sweep works out what is due from last_seen_at, so an
    # incident that went quiet while nothing was running is still resolved at the next tick.
    hook = make_hook(inactivity_timeout=timedelta(minutes=10))
    hook.post(payload([alert("web-1")]))
    incident = Incident.objects.get()

    assert incidents_resolve_inactive(now=timezone.now() + timedelta(minutes=9)) == []
    assert incidents_resolve_inactive(now=timezone.now() + timedelta(minutes=11)) == [incident.pk]


def test_it_reopens_when_the_quiet_alert_comes_back_within_the_window(db) -> None:
    hook = make_hook(inactivity_timeout=timedelta(minutes=10))
    hook.post(payload([alert("web-1")]))
    incident = Incident.objects.get()
    quiet_for(incident, timedelta(minutes=11))
    incidents_resolve_inactive()

    response = hook.post(payload([alert("web-1")]))

    assert response.json()["action"] == "reopened"
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED
