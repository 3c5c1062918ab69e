"""Whom a level reaches costs the same few queries for two people as for forty: users, schedules
and contact methods are read once per resolution, not once per person or per step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import lifecycle
from incidents.escalation import reach
from incidents.escalation.plan import escalation_plan
from incidents.escalation.snapshot import Target
from incidents.models import Source
from incidents.oncall.models import ContactMethod, Override, Schedule

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)


def _crowd(schedule: Schedule, prefix: str, n: int) -> list[Target]:
    """``n`` people with a Slack and an email contact: half on call on ``schedule`` (overlapping
    overrides put them all on call), half named as users. Returns the targets naming them."""
    targets = [Target("schedule", schedule.pk)]
    for i in range(n):
        user = User.objects.create_user(f"{prefix}{i}", f"{prefix}{i}@example.com")
        ContactMethod.objects.create(user=user, kind="slack", value=f"U{prefix.upper()}{i}")
        ContactMethod.objects.create(user=user, kind="email", value=f"{prefix}{i}@example.com")
        if i % 2:
            Override.objects.create(schedule=schedule, user=user, starts_at=NOW - timedelta(hours=1),
                                    ends_at=NOW + timedelta(days=30))
        else:
            targets.append(Target("user", user.username))
    return targets


def _queries(targets: list[Target]) -> tuple[int, reach.Reached]:
    with CaptureQueriesContext(connection) as captured:
        reached = reach.resolve(targets, at=NOW)
    return len(captured.captured_queries), reached


def test_resolving_forty_people_costs_the_queries_of_two():
    few = _crowd(Schedule.objects.create(name="Few", time_zone="UTC"), "few", 2)
    many = _crowd(Schedule.objects.create(name="Many", time_zone="UTC"), "many", 40)

    few_queries, few_reached = _queries(few)
    many_queries, many_reached = _queries(many)

    assert len(few_reached.people) == 2 and len(many_reached.people) == 40
    assert len(many_reached.pairs) == 80 and not many_reached.gaps  # each person's DM and email
    assert many_queries == few_queries
    assert many_queries <= 7  # users, the schedule with its layers, participants, overrides; contacts


def test_the_incident_plan_reads_people_once_for_all_its_steps(p1, make_policy):
    schedule = Schedule.objects.create(name="Primary", time_zone="UTC")
    targets = [t.to_json() for t in _crowd(schedule, "crew", 20)]
    short = make_policy((0, targets), (60, targets), name="Short")
    long = make_policy(*[(60 * (i > 0), targets) for i in range(20)], repeat=2, name="Long")

    counts = []
    for policy in (short, long):
        incident = lifecycle.incident_open(title="Payments down", severity=p1, source=Source.API,
                                           escalation_policy=policy)
        with CaptureQueriesContext(connection) as captured:
            plan = escalation_plan(incident)
        counts.append(len(captured.captured_queries))
        assert plan.next_step is not None and len(plan.next_step["targets"][0]["people"]) == 10
    assert counts[1] == counts[0], "59 pending steps cost what 1 does"
