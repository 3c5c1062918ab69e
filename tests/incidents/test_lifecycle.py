"""The incident lifecycle: every transition, its timestamps, deadlines and timeline events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import lifecycle
from incidents.models import EventKind, Incident, Source, Status
from opsportal.lib.exceptions import ApplicationError, ConflictError

pytestmark = pytest.mark.django_db


def _open(severity, **kwargs) -> Incident:
    return lifecycle.incident_open(title="Checkout down", severity=severity, source=Source.WEB, **kwargs)


def test_it_opens_with_deadlines_from_the_severity(p1):
    opened = timezone.now() - timedelta(minutes=3)
    incident = _open(p1, opened_at=opened)
    assert incident.status == Status.TRIGGERED
    assert incident.response_due_at == opened + timedelta(minutes=15)
    assert incident.resolve_due_at == opened + timedelta(hours=1)
    assert list(incident.events.values_list("kind", flat=True)) == [EventKind.OPENED]
    assert incident.key.startswith("inc-") and len(incident.key) == 20


def test_it_walks_the_whole_lifecycle_with_a_timestamp_per_step(p1, responder):
    incident = _open(p1)
    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    lifecycle.incident_mitigate(incident=incident, actor=responder, source=Source.WEB)
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB, note="Rolled back.")
    lifecycle.incident_close(incident=incident, actor=responder, source=Source.WEB)
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED
    assert incident.acknowledged_at and incident.mitigated_at and incident.resolved_at and incident.closed_at
    assert incident.opened_at <= incident.acknowledged_at <= incident.mitigated_at <= incident.resolved_at
    assert incident.resolved_at <= incident.closed_at
    assert incident.time_to_acknowledge is not None and incident.time_to_resolve is not None
    events = list(incident.events.values_list("kind", "actor__username", "message"))
    assert [e[0] for e in events] == ["opened", "acknowledged", "mitigated", "resolved", "closed"]
    assert events[3] == ("resolved", "responder", "Rolled back.")


def test_it_refuses_to_acknowledge_a_closed_incident(p1, responder):
    incident = _open(p1)
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB)
    lifecycle.incident_close(incident=incident, actor=responder, source=Source.WEB)
    with pytest.raises(ConflictError, match=r"Cannot acknowledge incident #\d+: it is closed"):
        lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.API)
    assert incident.events.count() == 3


def test_it_tells_the_second_acknowledger_who_won(p1, responder, other_responder):
    incident = _open(p1)
    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    with pytest.raises(ConflictError, match="already acknowledged by responder"):
        lifecycle.incident_acknowledge(incident=incident, actor=other_responder, source=Source.SLACK)


@pytest.mark.parametrize(
    ("title", "message"),
    [("", "Title must not be empty"), ("   ", "Title must not be empty"), ("x" * 201, "limit is 200")],
)
def test_it_rejects_bad_titles(p1, title, message):
    with pytest.raises(ApplicationError, match=message):
        lifecycle.incident_open(title=title, severity=p1, source=Source.WEB)
    assert not Incident.objects.exists()


def test_it_rejects_labels_that_are_not_strings(p1):
    with pytest.raises(ApplicationError, match="string keys to string values"):
        _open(p1, labels={"severity": 1})


def test_it_recomputes_deadlines_from_opening_when_severity_changes(p1, p3, responder):
    opened = timezone.now() - timedelta(minutes=30)
    incident = _open(p3, opened_at=opened)
    lifecycle.incident_change_severity(incident=incident, severity=p1, actor=responder, source=Source.WEB)
    incident.refresh_from_db()
    assert incident.severity == p1
    assert incident.response_due_at == opened + timedelta(minutes=15)  # already in the past: breach is due
    assert incident.resolve_due_at == opened + timedelta(hours=1)
    event = incident.events.get(kind=EventKind.SEVERITY_CHANGED)
    assert event.message == "Severity P3 → P1." and event.actor == responder


def test_it_reopens_with_a_fresh_response_deadline(p1, responder):
    incident = _open(p1, opened_at=timezone.now() - timedelta(hours=2))
    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB)
    before = timezone.now()
    lifecycle.incident_reopen(incident=incident, actor=responder, source=Source.WEB, reason="It is back.")
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED
    assert incident.acknowledged_at is None and incident.resolved_at is None
    assert incident.response_due_at >= before + timedelta(minutes=15)
    last = incident.events.last()
    assert last is not None and last.message == "It is back."


def test_it_assigns_and_unassigns_a_commander(p1, responder):
    incident = _open(p1)
    lifecycle.incident_assign_commander(incident=incident, commander=responder, actor=responder, source=Source.WEB)
    lifecycle.incident_assign_commander(incident=incident, commander=None, actor=responder, source=Source.WEB)
    incident.refresh_from_db()
    assert incident.commander is None
    assert list(incident.events.filter(kind=EventKind.ASSIGNED).values_list("message", flat=True)) == [
        "Commander: responder.", "Commander unassigned."]


def test_it_keeps_notes_and_refuses_empty_ones(p1, responder):
    incident = _open(p1)
    lifecycle.incident_add_note(incident=incident, text="  Paged the DBA. ", actor=responder, source=Source.WEB)
    with pytest.raises(ApplicationError, match="must not be empty"):
        lifecycle.incident_add_note(incident=incident, text=" ", actor=responder, source=Source.WEB)
    assert list(incident.events.filter(kind=EventKind.NOTE).values_list("message", flat=True)) == ["Paged the DBA."]


def test_it_names_an_unknown_incident(responder):
    with pytest.raises(ApplicationError, match="Incident #999999 does not exist"):
        lifecycle.incident_acknowledge(incident=999999, actor=responder, source=Source.API)


def test_it_allows_only_one_open_incident_per_alert_group(p1):
    from django.db import IntegrityError, transaction

    first = _open(p1, group_key="g1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _open(p1, group_key="g1")
    lifecycle.incident_resolve(incident=first, actor=None, source=Source.ALERTMANAGER)
    assert _open(p1, group_key="g1").pk != first.pk  # a resolved group may open again


def test_it_answers_not_found_for_an_action_on_a_missing_incident(db) -> None:
    from opsportal.lib.exceptions import NotFoundError

    with pytest.raises(NotFoundError) as caught:
        lifecycle.incident_acknowledge(incident=987654, actor=None, source=Source.API)
    assert caught.value.status_code == 404
    assert "#987654 does not exist" in caught.value.message


def test_it_records_no_breach_once_the_clock_has_stopped(p1, responder) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    late = incident.response_due_at + timedelta(minutes=1)
    assert lifecycle.incident_record_breach(incident=incident, sla="response", at=late) is False
    incident.refresh_from_db()
    assert incident.response_breached_at is None
    assert not incident.events.filter(kind=EventKind.SLA_BREACHED).exists()
