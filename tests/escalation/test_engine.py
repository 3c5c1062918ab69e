"""The engine through the lifecycle: level 1 at once, the next when due, exactly once, stopped by an
acknowledgement, restarted by a reopen; escalate now, page, SLA breaches; time moved with ``now``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import lifecycle, sla
from incidents.escalation.engine import escalation_tick
from incidents.escalation.models import EscalationLevel
from incidents.escalation.snapshot import Target
from incidents.models import EventKind, Incident, Service, Source
from incidents.notifications.models import Delivery
from opsportal.lib.exceptions import ApplicationError, ConflictError

CHANNEL = {"type": "slack_channel", "value": "C0PAY"}
ALICE = {"type": "user", "value": "alice"}
BOB = {"type": "user", "value": "bob"}
T0 = timezone.now().replace(microsecond=0)


def _open(p1, policy=None, *, at=T0, **kw) -> Incident:
    return lifecycle.incident_open(title="Payments down", severity=p1, source=Source.API, escalation_policy=policy,
                                   opened_at=at, **kw)


def _levels(incident: Incident) -> list[int]:
    return [e.data["level"] for e in incident.events.filter(kind=EventKind.ESCALATED).order_by("created_at", "id")]


def _sent_to(incident: Incident, level: int) -> list[tuple[str, str]]:
    """The level's targets (the incident's Slack thread hears every escalation too: without Slack
    credentials that is a preview row with no target, left out here)."""
    event = incident.events.get(kind=EventKind.ESCALATED, data__level=level, data__repeat=0)
    return [(d.channel, d.target) for d in Delivery.objects.filter(event=event).exclude(target="").order_by("id")]


def test_level_1_is_paged_when_the_incident_opens_and_level_2_once_its_delay_passed(p1, alice, make_policy):
    policy = make_policy((0, [CHANNEL]), (300, [ALICE]))
    incident = _open(p1, policy)
    assert _levels(incident) == [1]
    assert _sent_to(incident, 1) == [("slack", "C0PAY")]
    incident.refresh_from_db()
    assert incident.next_escalation_at == T0 + timedelta(seconds=300)

    assert escalation_tick(now=T0 + timedelta(seconds=299)) == []
    assert escalation_tick(now=T0 + timedelta(seconds=300)) == [(incident.pk, 2)]
    assert escalation_tick(now=T0 + timedelta(seconds=900)) == []  # the last level: once, never again
    assert _levels(incident) == [1, 2]
    # Alice through her contact methods: a Slack DM and her email.
    assert _sent_to(incident, 2) == [("slack", "U0ALICE"), ("email", "alice@example.com")]
    level_2 = incident.events.get(kind=EventKind.ESCALATED, data__level=2)
    # ...and the incident's Slack thread (a preview: no Slack credentials in this test).
    assert Delivery.objects.filter(event=level_2, channel="slack", target="", status="preview").count() == 1
    assert level_2.created_at == T0 + timedelta(seconds=300)
    assert level_2.source == Source.SCHEDULER
    incident.refresh_from_db()
    assert incident.next_escalation_at is None


def test_the_policy_repeats_n_times_then_stops(p1, alice, make_policy):
    incident = _open(p1, make_policy((0, [CHANNEL]), (60, [ALICE]), repeat=1))
    for seconds in (60, 120, 180, 240, 300):
        escalation_tick(now=T0 + timedelta(seconds=seconds))
    events = incident.events.filter(kind=EventKind.ESCALATED).order_by("created_at")
    assert [(e.data["level"], e.data["repeat"], int((e.created_at - T0).total_seconds())) for e in events] == [
        (1, 0, 0), (2, 0, 60), (1, 1, 120), (2, 1, 180)]


def test_acknowledging_stops_escalation_and_reopening_restarts_it_from_level_1(p1, alice, responder, make_policy):
    incident = _open(p1, make_policy((0, [CHANNEL]), (300, [ALICE])))
    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    incident.refresh_from_db()
    assert incident.next_escalation_at is None
    assert escalation_tick(now=T0 + timedelta(hours=1)) == []
    assert _levels(incident) == [1]

    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB)
    lifecycle.incident_reopen(incident=incident, actor=responder, source=Source.WEB)
    assert _levels(incident) == [1, 1]
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.escalation_level == 1 and incident.next_escalation_at is not None
    assert escalation_tick(now=incident.next_escalation_at) == [(incident.pk, 2)]


def test_resolving_clears_the_next_level(p1, alice, responder, make_policy):
    incident = _open(p1, make_policy((0, [CHANNEL]), (300, [ALICE])))
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB)
    incident.refresh_from_db()
    assert incident.next_escalation_at is None
    assert escalation_tick(now=T0 + timedelta(hours=1)) == []


def test_escalate_now_pages_the_next_level_and_says_when_none_is_left(p1, alice, responder, make_policy):
    incident = _open(p1, make_policy((0, [CHANNEL]), (300, [ALICE])))
    event = lifecycle.incident_escalate(incident=incident, reason="manual", actor=responder, source=Source.WEB,
                                        at=T0 + timedelta(seconds=10))
    assert event is not None and event.data["level"] == 2 and event.actor == responder
    with pytest.raises(ConflictError) as exc:
        lifecycle.incident_escalate(incident=incident, reason="manual", actor=responder, source=Source.WEB)
    assert exc.value.code == "escalation_exhausted"
    assert escalation_tick(now=T0 + timedelta(hours=1)) == []  # the tick does not page level 2 again


def test_an_edited_policy_changes_new_incidents_only(p1, alice, bob, make_policy):
    policy = make_policy((0, [CHANNEL]), (300, [ALICE]))
    incident = _open(p1, policy)
    EscalationLevel.objects.filter(policy=policy, order=2).update(targets=[BOB])
    escalation_tick(now=T0 + timedelta(seconds=300))
    assert _sent_to(incident, 2) == [("slack", "U0ALICE"), ("email", "alice@example.com")]
    newer = _open(p1, policy)
    escalation_tick(now=T0 + timedelta(seconds=300))
    assert _sent_to(newer, 2) == [("slack", "U0BOB"), ("email", "bob@example.com")]


def test_a_schedule_with_nobody_on_call_falls_through_to_the_other_targets(
        p1, alice, bob, schedule, on_call, make_policy):
    policy = make_policy((0, [{"type": "schedule", "value": schedule.pk}, ALICE]))
    incident = _open(p1, policy)
    event = incident.events.get(kind=EventKind.ESCALATED)
    assert event.data["gaps"] == ["schedule Primary has nobody on call"]
    assert "Not reached: schedule Primary has nobody on call" in event.message
    assert _sent_to(incident, 1) == [("slack", "U0ALICE"), ("email", "alice@example.com")]

    on_call[schedule.pk] = [bob]
    second = _open(p1, policy)
    assert sorted(_sent_to(second, 1)) == [("email", "alice@example.com"), ("email", "bob@example.com"),
                                           ("slack", "U0ALICE"), ("slack", "U0BOB")]
    assert second.events.get(kind=EventKind.ESCALATED).data["gaps"] == []


def test_page_reaches_a_user_and_refuses_a_schedule_with_nobody_on_call(p1, alice, responder, schedule,
                                                                       make_policy):
    incident = _open(p1, None)
    event = lifecycle.incident_page(incident=incident, target=Target("user", "alice"), actor=responder,
                                    source=Source.WEB)
    assert event.data["page"] is True
    assert [(d.channel, d.target) for d in Delivery.objects.filter(event=event).exclude(target="")] == [
        ("slack", "U0ALICE"), ("email", "alice@example.com")]
    with pytest.raises(ApplicationError) as exc:
        lifecycle.incident_page(incident=incident, target=Target("schedule", schedule.pk), actor=responder,
                                source=Source.WEB)
    assert exc.value.code == "unreachable" and "nobody on call" in exc.value.message
    with pytest.raises(ApplicationError):
        lifecycle.incident_page(incident=incident, target=Target("user", "nobody"), actor=responder,
                                source=Source.WEB)


@pytest.mark.parametrize("switch", [True, False])
def test_a_response_breach_escalates_at_once_when_the_policy_says_so(p1, alice, make_policy, switch):
    incident = _open(p1, make_policy((0, [CHANNEL]), (3600, [ALICE]), escalate_on_sla_breach=switch))
    sla.sla_record_breaches(now=incident.response_due_at)
    assert _levels(incident) == ([1, 2] if switch else [1])
    if switch:
        assert incident.events.get(kind=EventKind.ESCALATED, data__level=2).data["reason"] == "sla_breach"


def test_the_service_policy_applies_else_the_default(p1, alice, make_policy):
    default = make_policy((0, [CHANNEL]), name="Default", is_default=True)
    own = make_policy((0, [ALICE]), name="Checkout")
    checkout = Service.objects.create(name="checkout", escalation_policy=own)
    assert _open(p1, service=checkout).escalation_policy == own
    assert _open(p1).escalation_policy == default
    Incident.objects.all().delete()
    default.delete()
    assert _open(p1).escalation_policy is None


def test_a_policy_emptied_in_the_admin_still_lets_the_incident_open(p1, make_policy):
    policy = make_policy((0, [CHANNEL]))
    policy.levels.all().delete()
    incident = _open(p1, policy)
    assert incident.events.get(kind=EventKind.ESCALATED).message.startswith("Nobody paged")
    assert Incident.objects.get(pk=incident.pk).next_escalation_at is None
