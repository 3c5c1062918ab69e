"""Outgoing: incidents become Events API v2 events with one dedup key per incident, in order,
checked by the PagerDuty contract server; errors are dead at once or retried as PagerDuty means."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import lifecycle
from incidents.integrations.pagerduty.channel import TEMPLATES
from incidents.models import Service, Severity, Source
from incidents.notifications.models import Conversation, Delivery, MessageTemplate, Route
from incidents.notifications.rendering import message_context, render
from tests.contracts.pagerduty import PagerDutyContract

from .conftest import ROUTING_KEY, FlushPD, pd_deliveries

pytestmark = pytest.mark.django_db


def test_trigger_acknowledge_resolve_reach_pagerduty_in_order_with_one_dedup_key(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, responder
) -> None:
    service = Service.objects.create(name="checkout")
    incident = lifecycle.incident_open(title="Checkout API returns 502", severity=p1, source=Source.WEB,
                                       service=service, labels={"region": "eu"})
    lifecycle.incident_assign_commander(incident=incident, commander=responder, actor=responder, source=Source.WEB)
    assert flush_pd() == 1
    alert = pagerduty.alert(ROUTING_KEY, incident.key)
    assert alert is not None and alert.status == "triggered" and alert.severity == "critical"
    trigger = pagerduty.accepted[0]
    assert trigger["dedup_key"] == incident.key
    assert trigger["payload"]["summary"] == f"P1 Checkout API returns 502 (checkout) - Opsportal #{incident.pk}"
    assert trigger["payload"]["source"] == "checkout"
    assert trigger["links"] == [{"href": f"http://127.0.0.1:8000/incidents/{incident.pk}/",
                                 "text": f"Opsportal incident #{incident.pk}"}]
    details = trigger["payload"]["custom_details"]
    assert details["labels"] == {"region": "eu"} and details["commander"] == "responder"
    assert details["acknowledge_by"] == incident.response_due_at.isoformat()

    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    flush_pd()
    assert pagerduty.alert(ROUTING_KEY, incident.key).status == "acknowledged"  # type: ignore[union-attr]
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB, note="Rolled back")
    flush_pd()

    assert pagerduty.actions(incident.key) == ["trigger", "acknowledge", "resolve"]
    assert pagerduty.alert(ROUTING_KEY, incident.key).status == "resolved"  # type: ignore[union-attr]
    assert [(d.kind, d.status, d.external_ref) for d in pd_deliveries()] == [
        ("opened", "sent", incident.key), ("acknowledged", "sent", incident.key), ("resolved", "sent", incident.key)]
    assert not pagerduty.refused


def test_a_worker_keeps_its_connection_to_pagerduty_between_events_and_reconnects_after_an_outage(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, responder
) -> None:
    incident = lifecycle.incident_open(title="Checkout API returns 502", severity=p1, source=Source.WEB)
    flush_pd()
    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    flush_pd()
    assert pagerduty.actions(incident.key) == ["trigger", "acknowledge"]
    assert pagerduty.connections == 1  # one TLS handshake for both events, not one each

    pagerduty.down = True  # the connection is cut without an answer
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB, note="Rolled back")
    flush_pd()
    assert pd_deliveries()[-1].status == "failed"
    pagerduty.down = False
    flush_pd(timezone.now() + timedelta(hours=1))  # past the backoff
    assert pagerduty.actions(incident.key) == ["trigger", "acknowledge", "resolve"]


def test_a_burst_goes_out_in_order_in_one_flush_and_a_reopen_opens_a_new_alert(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity
) -> None:
    incident = lifecycle.incident_open(title="Queue backlog", severity=p1, source=Source.WEB)
    lifecycle.incident_acknowledge(incident=incident, actor=None, source=Source.WEB)
    lifecycle.incident_resolve(incident=incident, actor=None, source=Source.WEB)
    lifecycle.incident_reopen(incident=incident, actor=None, source=Source.WEB, reason="Back again")

    assert flush_pd() == 4
    assert pagerduty.actions(incident.key) == ["trigger", "acknowledge", "resolve", "trigger"]
    alert = pagerduty.alert(ROUTING_KEY, incident.key)
    assert alert is not None and alert.status == "triggered" and alert.number == 2
    assert pagerduty.accepted[-1]["payload"]["summary"].startswith("REOPENED P1 Queue backlog")


def test_a_severity_change_re_triggers_an_open_incident_only(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, severities: dict[str, Severity]
) -> None:
    incident = lifecycle.incident_open(title="Slow search", severity=severities["P3"], source=Source.WEB)
    flush_pd()
    assert pagerduty.accepted[0]["payload"]["severity"] == "warning"
    lifecycle.incident_acknowledge(incident=incident, actor=None, source=Source.WEB)
    lifecycle.incident_change_severity(incident=incident, severity=severities["P1"], actor=None, source=Source.WEB)
    flush_pd()
    alert = pagerduty.alert(ROUTING_KEY, incident.key)
    assert alert is not None and alert.severity == "critical" and alert.number == 1
    assert alert.status == "acknowledged", "a deduplicated trigger does not page again"
    assert pagerduty.accepted[-1]["payload"]["summary"].startswith("P1 (was P3) Slow search")

    lifecycle.incident_resolve(incident=incident, actor=None, source=Source.WEB)
    lifecycle.incident_change_severity(incident=incident, severity=severities["P2"], actor=None, source=Source.WEB)
    flush_pd()
    assert pagerduty.actions(incident.key) == ["trigger", "acknowledge", "trigger", "resolve"]
    assert pagerduty.alert(ROUTING_KEY, incident.key).status == "resolved"  # type: ignore[union-attr]


def test_the_severity_map_and_the_summary_limit(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p3: Severity, settings
) -> None:
    settings.PAGERDUTY_SEVERITY_MAP = {**settings.PAGERDUTY_SEVERITY_MAP, "P3": "error"}
    MessageTemplate.objects.create(event="opened", channel="pagerduty", body="{{ incident.description }}")
    incident = lifecycle.incident_open(title="Long", severity=p3, source=Source.WEB, description="x" * 3000)
    flush_pd()
    payload = pagerduty.accepted[0]["payload"]
    assert payload["severity"] == "error"
    assert len(payload["summary"]) == 1024 and payload["summary"].endswith("…")
    assert pd_deliveries()[0].status == "sent" and pagerduty.alert(ROUTING_KEY, incident.key) is not None


def test_a_refused_event_is_dead_at_once_and_never_retried(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, settings
) -> None:
    settings.PAGERDUTY_ROUTING_KEY = "not-a-routing-key"  # PagerDuty answers 400 for a malformed key
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    flush_pd()
    delivery = pd_deliveries()[0]
    assert delivery.status == "dead" and delivery.attempts == 1
    assert "refused the event (400)" in delivery.last_error and "routing_key" in delivery.last_error
    flush_pd(now=timezone.now() + timedelta(hours=2))
    assert pagerduty.requests == 1 and not pagerduty.accepted


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried_later_by_the_outbox(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, status: int
) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    pagerduty.fail_next(status, retry_after="120" if status == 429 else None)
    before = timezone.now()
    assert flush_pd() == 0
    delivery = pd_deliveries()[0]
    assert delivery.status == "failed" and delivery.attempts == 1 and str(status) in delivery.last_error
    assert pagerduty.requests == 1, "the client makes one attempt; the outbox does the retrying"
    if status == 429:
        assert delivery.next_attempt_at >= before + timedelta(seconds=119)  # type: ignore[operator]

    assert flush_pd(now=timezone.now() + timedelta(minutes=10)) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2
    assert pagerduty.actions(incident.key) == ["trigger"]


def test_pagerduty_down_then_back_delivers_each_event_once_in_order(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity
) -> None:
    pagerduty.down = True
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    lifecycle.incident_acknowledge(incident=incident, actor=None, source=Source.WEB)
    now = timezone.now()
    for minutes in (0, 5, 10):
        assert flush_pd(now=now + timedelta(minutes=minutes)) == 0
    first, second = pd_deliveries()
    assert first.status == "failed" and "could not be reached" in first.last_error
    assert second.status == "pending", "nothing newer goes out before the older one"

    pagerduty.down = False
    lifecycle.incident_resolve(incident=incident, actor=None, source=Source.WEB)
    flush_pd(now=now + timedelta(hours=1))
    assert pagerduty.actions(incident.key) == ["trigger", "acknowledge", "resolve"]
    assert {d.status for d in pd_deliveries()} == {"sent"}
    assert pagerduty.alert(ROUTING_KEY, incident.key).status == "resolved"  # type: ignore[union-attr]


def test_a_timeout_is_retried(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, settings
) -> None:
    settings.PAGERDUTY_TIMEOUT_SECONDS = 0.2
    pagerduty.delay = 1.0
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    flush_pd()
    delivery = pd_deliveries()[0]
    assert delivery.status == "failed" and "Timeout" in delivery.last_error


def test_without_the_private_ca_the_certificate_is_refused(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, settings
) -> None:
    settings.PAGERDUTY_CA_BUNDLE = ""
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    flush_pd()
    delivery = pd_deliveries()[0]
    assert delivery.status == "failed" and "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
    assert not pagerduty.accepted


def test_a_ca_bundle_that_cannot_be_read_is_named_on_the_delivery_and_not_retried(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, settings, tmp_path
) -> None:
    settings.PAGERDUTY_CA_BUNDLE = str(tmp_path / "missing-ca.pem")
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    flush_pd()
    delivery = pd_deliveries()[0]
    assert delivery.status == "dead" and "PAGERDUTY_CA_BUNDLE could not be loaded" in delivery.last_error
    assert pagerduty.requests == 0


def test_routes_pick_the_routing_key_and_no_row_or_log_holds_a_key_whole(
    pagerduty: PagerDutyContract, flush_pd: FlushPD, p1: Severity, settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    payments_key = "PAYMENTS0123456789abcdefABCDEF01"
    typed_key = "TYPEDKEY0123456789abcdefABCDEF01"
    settings.PAGERDUTY_ROUTING_KEYS = {"payments": payments_key}
    Route.objects.create(channel="pagerduty", target="payments")
    Route.objects.create(channel="pagerduty", target=typed_key)
    caplog.set_level(logging.INFO)
    incident = lifecycle.incident_open(title="Card payments failing", severity=p1, source=Source.WEB)
    flush_pd()

    assert {d.target for d in pd_deliveries()} == {"payments", typed_key}
    assert pagerduty.alert(payments_key, incident.key) is not None
    assert pagerduty.alert(typed_key, incident.key) is not None
    assert pagerduty.alert(ROUTING_KEY, incident.key) is None, "routes replace the default key"
    assert not Delivery.objects.filter(target__contains=payments_key).exists()
    assert not Conversation.objects.filter(target__contains=ROUTING_KEY).exists()
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "pagerduty event sent" in logged
    assert payments_key not in logged and typed_key not in logged and "TYPEDK…" in logged


def test_unconfigured_pagerduty_keeps_previews(p1: Severity, settings) -> None:
    settings.PAGERDUTY_ROUTING_KEY = ""
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    (delivery,) = pd_deliveries()
    assert delivery.status == "preview" and delivery.payload["text"].startswith("P1 Checkout down")


def test_the_summary_names_the_service_once() -> None:
    incident = {"severity": "P1", "title": "5xx above 5% (checkout)", "service": "checkout", "id": 7}
    body = TEMPLATES["opened"][1]
    assert render(body, message_context(incident, {})) == "P1 5xx above 5% (checkout) - Opsportal #7"
    incident["title"] = "5xx above 5%"
    assert render(body, message_context(incident, {})) == "P1 5xx above 5% (checkout) - Opsportal #7"
