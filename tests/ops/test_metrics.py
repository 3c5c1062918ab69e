"""/metrics: what Prometheus scrapes, in its text format."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from incidents import lifecycle
from incidents.models import Source
from incidents.sla import sla_record_breaches

pytestmark = pytest.mark.django_db


def _samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


def _get(samples, name, **labels) -> float:
    return float(samples.get((name, tuple(sorted(labels.items()))), 0.0))


def test_it_counts_open_incidents_by_severity(client, p1, p3, responder):
    lifecycle.incident_open(title="a", severity=p1, source=Source.WEB)
    lifecycle.incident_open(title="b", severity=p1, source=Source.WEB)
    acked = lifecycle.incident_open(title="c", severity=p3, source=Source.WEB)
    lifecycle.incident_acknowledge(incident=acked, actor=responder, source=Source.WEB)
    samples = _samples(client)
    assert _get(samples, "opsportal_incidents_open", severity="P1", status="triggered") == 2
    assert _get(samples, "opsportal_incidents_open", severity="P3", status="acknowledged") == 1
    assert _get(samples, "opsportal_incidents_open", severity="P2", status="triggered") == 0


def test_it_counts_committed_transitions_and_breaches(client, p1, responder, django_capture_on_commit_callbacks):
    before = _samples(client)
    with django_capture_on_commit_callbacks(execute=True):
        incident = lifecycle.incident_open(title="a", severity=p1, source=Source.API,
                                           opened_at=timezone.now() - timedelta(hours=2))
        lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.API)
        sla_record_breaches()
    after = _samples(client)
    key = "opsportal_incident_transitions_total"
    assert _get(after, key, action="acknowledged", source="api") - _get(before, key, action="acknowledged", source="api") == 1
    breaches = "opsportal_sla_breaches_total"
    assert _get(after, breaches, severity="P1", kind="resolution") - _get(before, breaches, severity="P1", kind="resolution") == 1
    assert _get(after, breaches, severity="P1", kind="response") == _get(before, breaches, severity="P1", kind="response")


def test_it_counts_http_requests_by_route(client):
    client.get("/health")
    samples = _samples(client)
    assert any(name == "opsportal_http_requests_total" and dict(labels).get("route") == "health"
               for name, labels in samples)
