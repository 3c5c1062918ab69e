"""Maintenance windows: scheduled ahead; matching alerts are stored but open no incident."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from incidents.integrations.alertmanager.maintenance import (
    maintenance_window_create,
    maintenance_window_delete,
    maintenance_window_end,
    maintenance_windows_active,
)
from incidents.integrations.alertmanager.models import Alert, AlertStatus, MaintenanceWindow
from incidents.models import Incident
from opsportal.lib.exceptions import ApplicationError, ConflictError
from opsportal.lib.matchers import matchers_format, matchers_parse

from .webhook_support import Hook, alert, make_hook, payload

pytestmark = pytest.mark.django_db


def window(hook: Hook | None = None, *, matchers: Any = "", starts: timedelta = timedelta(minutes=-5),
           ends: timedelta = timedelta(hours=1), actor: User | None = None) -> MaintenanceWindow:
    """A window through the service. ``matchers`` is Any: tests hand it malformed values on purpose."""
    now = timezone.now()
    return maintenance_window_create(
        name="DB upgrade", starts_at=now + starts, ends_at=now + ends, matchers=matchers,
        integration=hook.integration if hook else None, comment="planned", actor=actor,
    )


def test_it_stores_matching_alerts_without_opening_an_incident(hook: Hook, responder) -> None:
    held = window(hook, matchers='service="checkout"', actor=responder)

    response = hook.post(payload([alert("web-1"), alert("web-2")]))

    assert response.status_code == 200
    assert response.json()["action"] == "suppressed"
    assert response.json()["incident"] is None
    assert not Incident.objects.exists()
    rows = list(Alert.objects.order_by("fingerprint"))
    assert len(rows) == 2
    assert all(r.incident is None and r.maintenance_window == held for r in rows)
    assert held.created_by == responder


def test_it_updates_held_alerts_on_repeats_and_resolution(hook: Hook) -> None:
    window(hook)
    hook.post(payload([alert("web-1")]))
    hook.post(payload([alert("web-1")]))
    hook.post(payload([alert("web-1", status="resolved", ends_at="2026-11-23T10:00:00Z")]))

    row = Alert.objects.get()
    assert row.times_received == 3
    assert row.status == AlertStatus.RESOLVED
    assert not Incident.objects.exists()


def test_it_opens_incidents_for_alerts_the_matchers_do_not_cover(hook: Hook) -> None:
    window(hook, matchers='instance=~"db-.*"')

    response = hook.post(payload([alert("db-1"), alert("web-1")]))

    incident = Incident.objects.get()
    assert response.json()["action"] == "opened"
    assert list(incident.alerts.values_list("labels__instance", flat=True)) == ["web-1"]
    assert Alert.objects.get(incident__isnull=True).labels["instance"] == "db-1"


def test_it_applies_a_global_window_to_every_integration(db) -> None:
    window(None, matchers='severity!="critical"')
    first, second = make_hook("one"), make_hook("two")

    assert first.post(payload([alert("web-1", severity="warning")])).json()["action"] == "suppressed"
    assert second.post(payload([alert("web-1", severity="warning")])).json()["action"] == "suppressed"
    assert second.post(payload([alert("web-2", severity="critical")], group_key="g2")).json()["action"] == "opened"


def test_it_ignores_a_window_of_another_integration(db) -> None:
    other = make_hook("other")
    window(other)
    hook = make_hook("mine")

    assert hook.post(payload([alert("web-1")])).json()["action"] == "opened"


def test_it_ignores_a_window_that_has_not_started_or_has_ended(hook: Hook) -> None:
    future = window(hook, starts=timedelta(hours=1), ends=timedelta(hours=2))

    assert hook.post(payload([alert("web-1")])).json()["action"] == "opened"
    assert maintenance_windows_active(integration=hook.integration) == []
    assert maintenance_windows_active(integration=hook.integration, at=future.starts_at) == [future]


def test_it_keeps_alerts_already_on_an_open_incident_flowing_to_it(hook: Hook) -> None:
    hook.post(payload([alert("web-1")]))
    incident = Incident.objects.get()
    window(hook)

    response = hook.post(payload([alert("web-1", status="resolved", ends_at="2026-11-23T10:00:00Z")]))

    assert response.json()["action"] == "resolved"
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_it_pages_again_after_the_window_ends(hook: Hook) -> None:
    held = window(hook)
    hook.post(payload([alert("web-1")]))
    maintenance_window_end(window=held, actor=None)

    response = hook.post(payload([alert("web-1")]))  # the next repeat of the still-firing group

    assert response.json()["action"] == "opened"
    assert Incident.objects.get().alerts.count() == 1


def test_it_matches_like_alertmanager(hook: Hook) -> None:
    window(hook, matchers='alertname="HighErrorRate", instance=~"web-[0-9]+", team!="db", zone!~"eu-.*"')

    held = hook.post(payload([alert("web-12", zone="us-1")], group_key="a")).json()["action"]
    anchored = hook.post(payload([alert("xweb-1")], group_key="b")).json()["action"]
    excluded = hook.post(payload([alert("web-3", zone="eu-west")], group_key="c")).json()["action"]

    assert (held, anchored, excluded) == ("suppressed", "opened", "opened")


def test_it_refuses_a_window_that_ends_before_it_starts(db) -> None:
    with pytest.raises(ApplicationError, match="end after it starts") as exc:
        window(None, starts=timedelta(hours=2), ends=timedelta(hours=1))
    assert exc.value.extra["field"] == "ends_at"


def test_it_refuses_a_window_in_the_past(db) -> None:
    with pytest.raises(ApplicationError, match="ends in the past"):
        window(None, starts=timedelta(hours=-2), ends=timedelta(hours=-1))


def test_it_refuses_a_window_without_a_name(db) -> None:
    now = timezone.now()
    with pytest.raises(ApplicationError, match="needs a name"):
        maintenance_window_create(name=" ", starts_at=now, ends_at=now + timedelta(hours=1), matchers=[], actor=None)


def test_it_refuses_naive_times(db) -> None:
    now = timezone.now().replace(tzinfo=None)
    with pytest.raises(ApplicationError, match="time zone"):
        maintenance_window_create(name="x", starts_at=now, ends_at=now + timedelta(hours=1), matchers=[], actor=None)


@pytest.mark.parametrize(
    ("matchers", "message"),
    [
        ('instance=~"web-("', "not a valid regular expression"),
        ('9lives="x"', "is not a label name"),
        ([{"name": "a b", "value": "x"}], "not a label name"),
        ([{"name": "a", "value": 3}], "value must be text"),
        ([{"name": "a", "value": "x", "is_regex": "yes"}], "true or false"),
        ("not a matcher", "is not a matcher"),
    ],
)
def test_it_refuses_bad_matchers_naming_the_problem(db, matchers: object, message: str) -> None:
    with pytest.raises(ApplicationError, match=message) as exc:
        window(None, matchers=matchers)
    assert exc.value.extra["field"] == "matchers"
    assert not MaintenanceWindow.objects.exists()


def test_it_reads_and_writes_alertmanagers_matcher_text() -> None:
    text = '{service="checkout", instance=~"web-\\d+", team!="db", zone!~"eu-.*", note="say \\"hi\\""}'

    matchers = matchers_parse(text)

    assert matchers == [
        {"name": "service", "value": "checkout", "is_regex": False, "is_equal": True},
        {"name": "instance", "value": "web-\\d+", "is_regex": True, "is_equal": True},
        {"name": "team", "value": "db", "is_regex": False, "is_equal": False},
        {"name": "zone", "value": "eu-.*", "is_regex": True, "is_equal": False},
        {"name": "note", "value": 'say "hi"', "is_regex": False, "is_equal": True},
    ]
    assert matchers_parse(matchers_format(matchers)) == matchers


def test_it_ends_an_active_window_now(hook: Hook) -> None:
    held = window(hook)

    ended = maintenance_window_end(window=held, actor=None)

    assert ended.ends_at <= timezone.now()
    assert maintenance_windows_active(integration=hook.integration) == []
    with pytest.raises(ConflictError, match="already ended"):
        maintenance_window_end(window=held.pk, actor=None)


def test_it_will_not_end_a_window_that_has_not_started(db) -> None:
    future = window(None, starts=timedelta(hours=1), ends=timedelta(hours=2))

    with pytest.raises(ConflictError, match="delete it instead"):
        maintenance_window_end(window=future, actor=None)


def test_it_deletes_a_window_and_keeps_the_alerts_it_held(hook: Hook) -> None:
    held = window(hook)
    hook.post(payload([alert("web-1")]))

    maintenance_window_delete(window=held, actor=None)

    assert not MaintenanceWindow.objects.exists()
    assert Alert.objects.get().maintenance_window is None
    with pytest.raises(ApplicationError, match="does not exist"):
        maintenance_window_delete(window=held.pk, actor=None)


def test_it_holds_new_alerts_of_an_open_incident_that_a_window_matches(hook: Hook) -> None:
    hook.post(payload([alert("web-1")]))
    incident = Incident.objects.get()
    window(hook, matchers='instance="web-2"')

    response = hook.post(payload([alert("web-1"), alert("web-2")]))

    assert response.json()["action"] == "suppressed"
    assert response.json()["incident"] == incident.pk
    assert list(incident.alerts.values_list("labels__instance", flat=True)) == ["web-1"]
    assert Alert.objects.get(incident__isnull=True).labels["instance"] == "web-2"
