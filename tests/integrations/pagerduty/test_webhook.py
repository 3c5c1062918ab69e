"""Incoming: PagerDuty's v3 webhooks acknowledge and resolve our incidents through the lifecycle,
signed, at most once per event, and nothing echoes back to PagerDuty."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from incidents import lifecycle
from incidents.integrations.pagerduty import inbound
from incidents.integrations.pagerduty.models import WebhookEvent
from incidents.integrations.pagerduty.signatures import sign
from incidents.models import Incident, Severity, Source
from tests.contracts.pagerduty import PagerDutyContract

from .conftest import FlushPD, pd_deliveries

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pagerduty"
SECRET = "ChJk9Zq0mX1l3wQ2pV7rN4tY6uI8oA5s"
URL = "/hooks/pagerduty"


@pytest.fixture(autouse=True)
def webhook_secret(settings) -> None:
    settings.PAGERDUTY_WEBHOOK_SECRET = SECRET


def fixture(name: str, incident: Incident | None = None, **event: Any) -> bytes:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    if incident is not None:
        data["event"]["data"]["incident_key"] = incident.key
    data["event"].update(event)
    return json.dumps(data).encode()


def post(client: Client, body: bytes, signature: str | None = None) -> Any:
    headers = {"X-PagerDuty-Signature": signature if signature is not None else sign(body, SECRET)}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_a_signed_acknowledgement_acknowledges_the_incident_and_is_not_echoed(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, client: Client
) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    flush_pd()

    response = post(client, fixture("incident_acknowledged", incident))

    assert response.status_code == 202 and response.json()["status"] == "changed"
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    event = incident.events.get(kind="acknowledged")
    assert event.source == "pagerduty" and event.actor is None
    assert event.message == ("Acknowledged in PagerDuty by Dana Oncall. "
                             "https://acme.pagerduty.com/incidents/Q2JFLB0Y7DKYXV")
    assert [d.kind for d in pd_deliveries()] == ["opened"], "no delivery to PagerDuty for its own change"
    flush_pd(now=timezone.now() + timedelta(hours=1))
    assert pagerduty.actions(incident.key) == ["trigger"]


def test_the_hooks_pool_takes_pagerduty_webhooks(p1: Severity, client: Client, hooks_pool) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)

    response = post(client, fixture("incident_resolved", incident))

    assert response.status_code == 202 and response.json()["status"] == "changed"
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_the_agent_is_the_opsportal_user_of_that_name(
    p1: Severity, client: Client, django_user_model
) -> None:
    dana = django_user_model.objects.create_user("dana", "dana@example.com", first_name="Dana", last_name="Oncall")
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    post(client, fixture("incident_resolved", incident))
    incident.refresh_from_db()
    event = incident.events.get(kind="resolved")
    assert incident.status == "resolved" and event.actor == dana and event.source == "pagerduty"


def test_a_forged_or_missing_signature_is_refused(p1: Severity, client: Client) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    body = fixture("incident_acknowledged", incident)
    forged = post(client, body, signature=sign(body, "not-the-secret"))
    missing = post(client, body, signature="")
    tampered = post(client, body.replace(b"Dana", b"Mallory"), signature=sign(body, SECRET))
    assert (forged.status_code, missing.status_code, tampered.status_code) == (401, 401, 401)
    assert "X-PagerDuty-Signature" in forged.json()["error"]["message"]
    incident.refresh_from_db()
    assert incident.status == "triggered" and not WebhookEvent.objects.exists()


def test_any_of_several_signatures_may_match_while_the_secret_rotates(p1: Severity, client: Client) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    body = fixture("incident_acknowledged", incident)
    header = f"{sign(body, 'the-old-secret')},{sign(body, SECRET)}"
    assert post(client, body, signature=header).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "acknowledged"


def test_a_replayed_webhook_changes_nothing_twice(p1: Severity, client: Client) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    body = fixture("incident_resolved", incident)
    assert post(client, body).json()["status"] == "changed"
    lifecycle.incident_reopen(incident=incident, actor=None, source=Source.WEB, reason="Not fixed")

    replay = post(client, body)

    assert replay.status_code == 202 and replay.json()["status"] == "duplicate"
    incident.refresh_from_db()
    assert incident.status == "triggered", "the replay did not resolve the reopened incident"
    assert incident.events.filter(kind="resolved").count() == 1


def test_an_incident_already_acknowledged_or_resolved_here_is_left_alone(p1: Severity, client: Client) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    lifecycle.incident_resolve(incident=incident, actor=None, source=Source.WEB)
    for name in ("incident_acknowledged", "incident_resolved"):
        response = post(client, fixture(name, incident))
        assert response.status_code == 202 and response.json()["status"] == "ignored"
    assert incident.events.filter(source="pagerduty").count() == 0


@pytest.mark.parametrize("body", [
    fixture("pagey_ping"),
    fixture("incident_acknowledged", event_type="incident.annotated"),
    fixture("incident_acknowledged"),  # an incident_key that is not ours
])
def test_other_events_and_unknown_incidents_are_answered_and_ignored(
    p1: Severity, client: Client, body: bytes
) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    response = post(client, body)
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    incident.refresh_from_db()
    assert incident.status == "triggered"


@pytest.mark.parametrize(("body", "status", "needle"), [
    (b"{not json", 400, "not JSON"),
    (b"[]", 400, '"event" object'),
    (json.dumps({"event": {"event_type": "incident.resolved"}}).encode(), 400, "event.id"),
    (json.dumps({"event": {"id": "E1", "event_type": "incident.resolved", "data": []}}).encode(), 400,
     "event.data"),
    (b"x" * (256 * 1024 + 1), 413, "256"),
])
def test_bad_bodies_get_a_4xx_naming_the_problem(client: Client, body: bytes, status: int, needle: str) -> None:
    response = post(client, body)
    assert response.status_code == status and needle in response.json()["error"]["message"]


def test_without_a_secret_every_webhook_is_refused(settings, client: Client) -> None:
    settings.PAGERDUTY_WEBHOOK_SECRET = ""
    response = post(client, fixture("pagey_ping"), signature=sign(fixture("pagey_ping"), ""))
    assert response.status_code == 403 and "PAGERDUTY_WEBHOOK_SECRET" in response.json()["error"]["message"]
    assert client.get(URL).status_code == 405


def test_seen_event_ids_are_kept_for_the_retention_only(p1: Severity, client: Client) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    post(client, fixture("incident_acknowledged", incident))
    assert inbound.webhook_events_prune(now=timezone.now() + timedelta(days=1)) == 0
    assert inbound.webhook_events_prune(now=timezone.now() + timedelta(days=8)) == 1
    assert not WebhookEvent.objects.exists()
