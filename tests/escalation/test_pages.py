"""The pages: the incident panel (next level, countdown, escalate now, page), the policy pages
(levels added, moved and removed with htmx, bad input inline), the simulator, admin, demo data."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import lifecycle
from incidents.escalation import demo, plan
from incidents.escalation.engine import escalation_tick
from incidents.escalation.models import EscalationPolicy
from incidents.models import EventKind, Incident, Service, Source

HX = {"HTTP_HX_REQUEST": "true"}


def test_the_incident_panel_shows_the_next_level_and_escalates_and_pages(responder_client, p1, alice, bob,
                                                                          make_policy):
    policy = make_policy((0, [{"type": "slack_channel", "value": "C0PAY"}]), (300, [{"type": "user", "value": "bob"}]))
    incident = lifecycle.incident_open(title="Payments down", severity=p1, source=Source.WEB, escalation_policy=policy)
    page = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="escalation"' in page and "Level 2 in" in page and "<strong>bob</strong>" in page
    assert 'data-deadline="' in page

    answer = responder_client.post(f"/escalation/incidents/{incident.pk}/escalate", **HX)
    assert answer.status_code == 200
    assert answer.content.decode().count('data-testid="step-sent"') == 2
    again = responder_client.post(f"/escalation/incidents/{incident.pk}/escalate", **HX)
    assert again.status_code == 409 and "has paged every level" in again.content.decode()

    paged = responder_client.post(f"/escalation/incidents/{incident.pk}/page", {"target": "user:alice"}, **HX)
    assert paged.status_code == 200 and "Paged by hand: alice" in paged.content.decode()
    bad = responder_client.post(f"/escalation/incidents/{incident.pk}/page", {"target": "user:ghost"}, **HX)
    assert bad.status_code == 400 and "No active user" in bad.content.decode()


def test_the_panel_refresh_answers_204_until_the_escalation_moves_or_the_minute_turns(responder_client, p1, bob,
                                                                                       make_policy):
    policy = make_policy((0, [{"type": "user", "value": "bob"}]), (300, [{"type": "user", "value": "bob"}]))
    incident = lifecycle.incident_open(title="Payments down", severity=p1, source=Source.WEB, escalation_policy=policy)
    page = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    poll = re.search(r'<section id="escalation"[^>]* hx-get="([^"]+)"', page)
    assert poll is not None and "since=" in poll.group(1)
    url = poll.group(1).replace("&amp;", "&")
    assert responder_client.get(url, **HX).status_code == 204
    # Alerts and notes do not move the escalation: still nothing to redraw.
    lifecycle.record_event(incident, EventKind.NOTE, actor=None, source=Source.API, message="checked the logs")
    assert responder_client.get(url, **HX).status_code == 204

    lifecycle.incident_escalate(incident=incident, reason="manual", actor=None, source=Source.API)
    redrawn = responder_client.get(url, **HX)
    assert redrawn.status_code == 200 and redrawn.content.decode().count('data-testid="step-sent"') == 2
    newer = re.search(r'hx-get="([^"]+)"', redrawn.content.decode())
    assert newer is not None and newer.group(1) != poll.group(1)
    # Who a pending step reaches follows the rotation: the version moves on with the minute.
    assert plan.plan_version(incident, now=timezone.now() + timedelta(minutes=1)) != plan.plan_version(incident)


def test_the_panel_reads_each_person_and_schedule_once_however_often_the_policy_repeats(
    responder_client, p1, alice, bob, schedule, on_call, make_policy
):
    on_call[schedule.pk] = [alice]
    levels = ((0, [{"type": "user", "value": "alice"}]),
              (300, [{"type": "schedule", "value": schedule.pk}, {"type": "user", "value": "bob"}]),
              (600, [{"type": "slack_channel", "value": "C0PAY"}]))
    counts = {}
    for repeat in (1, 10):
        policy = make_policy(*levels, name=f"Payments x{repeat}", repeat=repeat)
        incident = lifecycle.incident_open(title="Payments down", severity=p1, source=Source.WEB,
                                           escalation_policy=policy)
        with CaptureQueriesContext(connection) as queries:
            panel = responder_client.get(f"/escalation/incidents/{incident.pk}/", **HX).content.decode()
        counts[repeat] = len(queries)
        assert panel.count('data-testid="step-pending"') == min(3 * (repeat + 1) - 1, plan.PENDING_MAX)
    assert counts[10] == counts[1]


def test_policy_pages_edit_levels_in_place_and_refuse_bad_input(staff_client, alice, bob, make_policy):
    created = staff_client.post("/escalation/policies/", {
        "name": "Checkout", "repeat": 0, "delay_seconds": 0, "targets": "slack_channel:C0PAY"})
    policy = EscalationPolicy.objects.get(name="Checkout")
    assert created.status_code == 302
    url = f"/escalation/policies/{policy.pk}/"
    added = staff_client.post(url + "add", {"delay_seconds": 120, "targets": "user:alice\nuser:bob"},
                              HTTP_HX_TARGET="levels", **HX)
    assert added.status_code == 200 and added.content.decode().count('data-testid="level"') == 2
    assert "<html" not in added.content.decode()  # only the levels section
    staff_client.post(url + "up", {"index": 1}, HTTP_HX_TARGET="levels", **HX)
    assert [lv.targets[0]["type"] for lv in policy.levels.order_by("order")] == ["user", "slack_channel"]
    refused = staff_client.post(url + "add", {"delay_seconds": -1, "targets": "user:alice"}, HTTP_HX_TARGET="levels",
                                **HX)
    assert refused.status_code == 400 and "delay cannot be negative" in refused.content.decode()
    unknown = staff_client.post(url + "add", {"delay_seconds": 5, "targets": "pager:123"}, HTTP_HX_TARGET="levels",
                                **HX)
    assert unknown.status_code == 400 and "Unknown target type" in unknown.content.decode()
    staff_client.post(url + "remove", {"index": 0}, HTTP_HX_TARGET="levels", **HX)
    last = staff_client.post(url + "remove", {"index": 0}, HTTP_HX_TARGET="levels", **HX)
    assert last.status_code == 400 and "at least one level" in last.content.decode()
    assert policy.levels.count() == 1


def test_the_simulator_shows_the_plan_and_sends_nothing(staff_client, alice, make_policy):
    own = make_policy((0, [{"type": "user", "value": "alice"}]), (90, [{"type": "slack_channel", "value": "C0MGR"}]),
                      name="Checkout")
    Service.objects.create(name="checkout", escalation_policy=own)
    page = staff_client.get(f"/escalation/policies/{own.pk}/", {"labels": "service=checkout, alertname=Down"})
    text = page.content.decode()
    assert page.status_code == 200 and "service checkout names it" in text
    assert text.count('data-testid="sim-step"') == 2 and "0:01:30" in text
    assert not Incident.objects.exists()
    assert staff_client.get(f"/escalation/policies/{own.pk}/", {"labels": "oops"}).status_code == 400


def test_the_admin_refuses_a_level_with_an_unknown_user(admin_client, make_policy):
    policy = make_policy((0, [{"type": "slack_channel", "value": "C0PAY"}]))
    level = policy.levels.get()
    answer = admin_client.post(f"/admin/escalation/escalationpolicy/{policy.pk}/change/", {
        "name": policy.name, "repeat": 0, "levels-TOTAL_FORMS": 1, "levels-INITIAL_FORMS": 1,
        "levels-0-id": level.pk, "levels-0-policy": policy.pk, "levels-0-order": 1, "levels-0-delay_seconds": 0,
        "levels-0-targets": '[{"type": "user", "value": "ghost"}]'})
    assert answer.status_code == 200 and "No active user" in answer.content.decode()


def test_demo_data_escalates_an_unacknowledged_incident(settings, tmp_path, severities):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    policy = EscalationPolicy.objects.get(name=demo.NAME)
    assert policy.is_default and policy.levels.count() == 4
    # The demo Alertmanager incident, opened six minutes ago and never acknowledged, follows it.
    incident = Incident.objects.get(escalation_policy=policy, source="alertmanager")
    assert incident.escalation_level == 1 and incident.status == "triggered"
    escalation_tick()
    assert incident.events.filter(kind=EventKind.ESCALATED).count() == 2
    escalation_tick(now=timezone.now() + timedelta(seconds=demo.DELAY_SECONDS + 1))
    assert incident.events.filter(kind=EventKind.ESCALATED).count() == 3
