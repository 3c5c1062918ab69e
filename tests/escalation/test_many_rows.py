"""Escalation and on-call pages with many rows stay the same size and cost the same queries: an
incident that escalated hundreds of times, hundreds of policies and schedules, years of overrides,
thousands of users."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import lifecycle
from incidents.escalation import panels, plan
from incidents.escalation.models import EscalationPolicy
from incidents.models import EventKind, Incident, Source, TimelineEvent
from incidents.oncall import services
from incidents.oncall.models import Override, Schedule
from incidents.oncall.services import LayerSpec

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
BOB = {"type": "user", "value": "bob"}
ALICE = {"type": "user", "value": "alice"}


def _escalated(incident: Incident, n: int, *, page: bool = False) -> None:
    """``n`` more escalations on the timeline (levels paged, or pages by hand), as the engine
    writes them."""
    start = incident.opened_at + timedelta(seconds=1)
    TimelineEvent.objects.bulk_create([
        TimelineEvent(incident=incident, kind=EventKind.ESCALATED, source=Source.SCHEDULER,
                      message="Paged bob." if page else f"Escalated to level {1 + i % 2}: bob.",
                      created_at=start + timedelta(milliseconds=i),
                      data={"page": page, "level": None if page else 1 + i % 2, "repeat": 0, "gaps": [],
                            "targets": [{"type": "user", "value": "bob", "label": "bob", "people": ["bob"],
                                         "via": ["slack:U0BOB"]}]})
        for i in range(n)
    ])


def _panel(client: Client, incident: Incident) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(f"/escalation/incidents/{incident.pk}/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    return answer.content.decode(), len(captured.captured_queries)


def test_an_incident_that_escalated_500_times_shows_the_newest_and_what_comes_next(
        responder_client, p1, alice, bob, make_policy):
    policy = make_policy((0, [ALICE]), (300, [BOB]), repeat=10)
    few = lifecycle.incident_open(title="Few", severity=p1, source=Source.API, escalation_policy=policy)
    many = lifecycle.incident_open(title="Many", severity=p1, source=Source.API, escalation_policy=policy)
    _escalated(many, 500)
    _escalated(many, 500, page=True)

    _, few_queries = _panel(responder_client, few)
    html, many_queries = _panel(responder_client, many)

    assert many_queries <= few_queries + 2  # and two counts of the earlier ones
    assert html.count('data-testid="step-sent"') == plan.SENT_SHOWN
    assert "… and 481 earlier levels paged: see the timeline." in html  # 501 with level 1 at opening
    assert "Paged by hand: 490 earlier (see the timeline)" in html
    # The next level is still shown, however long the list of levels already paged.
    assert "Level 2 in" in html and 'data-testid="step-pending"' in html
    assert len(html) < 60_000

    steps = responder_client.get(f"/api/v1/incidents/{many.pk}/escalation/").json()
    assert steps["earlier_steps"] == 481 and steps["earlier_pages"] == 490
    assert len(steps["pages"]) == plan.PAGES_SHOWN
    assert [s["status"] for s in steps["steps"]].count("sent") == plan.SENT_SHOWN


def test_page_reaches_a_user_past_the_pickers_first_names(responder_client, p1, make_policy, monkeypatch):
    monkeypatch.setattr(panels, "CHOICES_MAX", 3)
    User.objects.bulk_create([User(username=f"user{i:02d}") for i in range(10)])
    incident = lifecycle.incident_open(title="Payments down", severity=p1, source=Source.WEB,
                                       escalation_policy=make_policy((0, [{"type": "slack_channel", "value": "C0"}])))
    html, _ = _panel(responder_client, incident)
    assert html.count('<option value="user:') == 3 and 'name="username"' in html

    paged = responder_client.post(f"/escalation/incidents/{incident.pk}/page",
                                  {"target": "user:user00", "username": "user09"}, **HX)
    assert paged.status_code == 400  # user09 has no contact method: refused, and said so
    assert "user09 has no contact method" in paged.content.decode()


def test_the_policy_list_pages_through_many_policies(staff_client):
    EscalationPolicy.objects.bulk_create([EscalationPolicy(name=f"Policy {i:03d}") for i in range(120)])
    first = staff_client.get("/escalation/policies/").content.decode()
    assert len(re.findall(r'href="/escalation/policies/\d+/"', first)) == 50
    assert "1–50 of 120" in first and "Policy 000" in first and "Policy 050" not in first
    last = staff_client.get("/escalation/policies/?page=3").content.decode()
    assert "101–120 of 120" in last and "Policy 119" in last


def test_schedule_pages_read_neither_old_overrides_nor_every_schedule(responder_client, alice, bob):
    now = timezone.now()
    handoff = now.replace(tzinfo=None) - timedelta(days=1)
    mine = services.schedule_create(name="Primary", time_zone="UTC", layers=[
        LayerSpec(rotation="weekly", handoff=handoff, participants=["alice", "bob"])])
    Schedule.objects.bulk_create([Schedule(name=f"Team {i:03d}", time_zone="UTC") for i in range(60)])

    def detail() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as captured:
            html = responder_client.get(f"/oncall/schedules/{mine.pk}/").content.decode()
        return html, len(captured.captured_queries)

    _, before = detail()
    # Two years of overrides that are over, and 120 to come.
    Override.objects.bulk_create(
        [Override(schedule=mine, user=bob, starts_at=now - timedelta(days=730 - i), ends_at=now - timedelta(days=729 - i))
         for i in range(700)]
        + [Override(schedule=mine, user=bob, starts_at=now + timedelta(days=i + 1),
                    ends_at=now + timedelta(days=i + 1, hours=1)) for i in range(120)])
    with CaptureQueriesContext(connection) as loaded:
        html, after = detail()
    assert after == before
    fetched = [q["sql"] for q in loaded.captured_queries if "oncall_override" in q["sql"]]
    assert fetched and all("ends_at" in sql for sql in fetched), "only overrides not yet over are read"
    assert "… and 20 later overrides" in html

    listing = responder_client.get("/oncall/").content.decode()
    assert "1–50 of 61" in listing and "Primary" in listing

    # Alice's own page resolves the schedules she is on, not all 61.
    responder_client.force_login(alice)
    with CaptureQueriesContext(connection) as captured:
        me = responder_client.get("/oncall/me/").content.decode()
    assert "Primary" in me
    layers = [q["sql"] for q in captured.captured_queries if 'FROM "oncall_layer"' in q["sql"]]
    assert layers and all(f'"oncall_layer"."schedule_id" IN ({mine.pk})' in sql for sql in layers)
