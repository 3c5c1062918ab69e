"""SLA breaches: recorded once, for the deadline that passed, also under concurrent ticks."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents import lifecycle
from incidents.models import EventKind, Source
from incidents.sla import sla_record_breaches


def _open(severity, minutes_ago: float):
    return lifecycle.incident_open(title="API down", severity=severity, source=Source.WEB,
                                   opened_at=timezone.now() - timedelta(minutes=minutes_ago))


@pytest.mark.django_db
def test_it_records_a_missed_acknowledgement_once(p1):
    late = _open(p1, minutes_ago=20)
    on_time = _open(p1, minutes_ago=5)
    assert sla_record_breaches() == [(late.pk, "response")]
    assert sla_record_breaches() == []
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.response_breached_at is not None and late.resolve_breached_at is None
    assert on_time.response_breached_at is None
    event = late.events.get(kind=EventKind.SLA_BREACHED)
    assert event.source == Source.SCHEDULER
    assert event.message.startswith("Response SLA breached: P1 target 15m passed 5m ago")


@pytest.mark.django_db
def test_it_does_not_count_an_acknowledged_incident_as_a_response_breach(p1, responder):
    incident = _open(p1, minutes_ago=20)
    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    assert sla_record_breaches() == []


@pytest.mark.django_db
def test_it_records_the_resolution_breach_of_an_unresolved_incident(p1, responder):
    incident = _open(p1, minutes_ago=90)
    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    lifecycle.incident_mitigate(incident=incident, actor=responder, source=Source.WEB)
    assert sla_record_breaches() == [(incident.pk, "resolution")]


@pytest.mark.django_db
def test_it_ignores_resolved_incidents(p1, responder):
    incident = _open(p1, minutes_ago=90)
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB)
    assert sla_record_breaches() == []


@pytest.mark.django_db
def test_it_breaches_after_a_severity_raise_moves_the_deadline_into_the_past(p1, p3, responder):
    incident = _open(p3, minutes_ago=30)  # P3: 4 h to acknowledge
    assert sla_record_breaches() == []
    lifecycle.incident_change_severity(incident=incident, severity=p1, actor=responder, source=Source.WEB)
    assert sla_record_breaches() == [(incident.pk, "response")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_never_records_a_breach_twice_under_concurrent_ticks(p1):
    incidents = [_open(p1, minutes_ago=120) for _ in range(30)]  # each due for response and resolution
    barrier = threading.Barrier(4)
    results: list[list[tuple[int, str]]] = []

    def tick() -> None:
        try:
            barrier.wait()
            results.append(sla_record_breaches())
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorded = [b for r in results for b in r]
    assert sorted(recorded) == sorted([(i.pk, k) for i in incidents for k in ("response", "resolution")])
    for incident in incidents:
        assert incident.events.filter(kind=EventKind.SLA_BREACHED).count() == 2
