"""Who is on call when: handoffs, DST in the schedule's zone, overrides, stacked and empty layers,
deleted users. Through the real rows (services + PostgreSQL or SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from incidents.oncall import services
from incidents.oncall.models import Schedule
from incidents.oncall.resolve import oncall_at, oncall_gaps, oncall_timeline
from incidents.oncall.services import LayerSpec

pytestmark = pytest.mark.django_db


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def names(users: list[User]) -> list[str]:
    return [u.username for u in users]


def weekly(people: dict[str, User], zone: str = "Europe/London", handoff: datetime = datetime(2026, 11, 30, 9),
           participants: tuple[str, ...] = ("alice", "bob")) -> Schedule:
    return services.schedule_create(name="Primary", time_zone=zone,
                                    layers=[LayerSpec("weekly", handoff, list(participants))])


def test_it_hands_off_at_the_local_handoff_time(people: dict[str, User]) -> None:
    schedule = weekly(people)  # Monday 2026-11-30 09:00 London = 09:00 UTC (winter)
    assert oncall_at(schedule, utc(2026, 11, 30, 8, 59, 59)) == []  # before the first handoff
    assert names(oncall_at(schedule, utc(2026, 11, 30, 9))) == ["alice"]
    assert names(oncall_at(schedule, utc(2026, 12, 7, 8, 59, 59))) == ["alice"]
    assert names(oncall_at(schedule, utc(2026, 12, 7, 9))) == ["bob"]
    assert names(oncall_at(schedule, utc(2026, 12, 14, 9))) == ["alice"]


def test_it_keeps_the_wall_clock_handoff_when_clocks_go_forward(people: dict[str, User]) -> None:
    # London springs forward on Sunday 2027-03-28: Monday 09:00 is 09:00 UTC before, 08:00 UTC after.
    schedule = weekly(people, handoff=datetime(2027, 3, 22, 9))
    assert names(oncall_at(schedule, utc(2027, 3, 22, 9))) == ["alice"]
    assert names(oncall_at(schedule, utc(2027, 3, 29, 7, 59, 59))) == ["alice"]
    assert names(oncall_at(schedule, utc(2027, 3, 29, 8))) == ["bob"]
    shifts = oncall_timeline(schedule, utc(2027, 3, 22, 9), utc(2027, 4, 5, 8))
    assert [(s.user.username, s.starts_at, s.ends_at) for s in shifts] == [
        ("alice", utc(2027, 3, 22, 9), utc(2027, 3, 29, 8)),  # a week one hour short
        ("bob", utc(2027, 3, 29, 8), utc(2027, 4, 5, 8)),
    ]


def test_it_keeps_the_wall_clock_handoff_when_clocks_go_back(people: dict[str, User]) -> None:
    # London falls back on Sunday 2026-10-25: Monday 09:00 is 08:00 UTC before, 09:00 UTC after.
    schedule = weekly(people, handoff=datetime(2026, 10, 19, 9))
    assert names(oncall_at(schedule, utc(2026, 10, 19, 8))) == ["alice"]
    assert names(oncall_at(schedule, utc(2026, 10, 26, 8, 30))) == ["alice"]
    assert names(oncall_at(schedule, utc(2026, 10, 26, 9))) == ["bob"]


def test_a_handoff_in_the_skipped_hour_happens_when_the_clocks_jump(people: dict[str, User]) -> None:
    # Daily at 01:30 London: on 2027-03-28 01:30 never shows on a clock (01:00 GMT jumps to 02:00 BST).
    schedule = services.schedule_create(name="Night", time_zone="Europe/London",
                                        layers=[LayerSpec("daily", datetime(2027, 3, 27, 1, 30), ["alice", "bob"])])
    assert names(oncall_at(schedule, utc(2027, 3, 28, 0, 59, 59))) == ["alice"]
    assert names(oncall_at(schedule, utc(2027, 3, 28, 1))) == ["bob"]  # the jump
    assert names(oncall_at(schedule, utc(2027, 3, 29, 0, 29, 59))) == ["bob"]
    assert names(oncall_at(schedule, utc(2027, 3, 29, 0, 30))) == ["alice"]  # 01:30 BST


def test_a_handoff_in_the_repeated_hour_happens_at_the_first(people: dict[str, User]) -> None:
    # 2026-10-25 01:30 London happens twice: 00:30 UTC (BST) and 01:30 UTC (GMT).
    schedule = services.schedule_create(name="Night", time_zone="Europe/London",
                                        layers=[LayerSpec("daily", datetime(2026, 10, 24, 1, 30), ["alice", "bob"])])
    assert names(oncall_at(schedule, utc(2026, 10, 25, 0, 29))) == ["alice"]
    assert names(oncall_at(schedule, utc(2026, 10, 25, 0, 30))) == ["bob"]
    assert names(oncall_at(schedule, utc(2026, 10, 26, 1, 29))) == ["bob"]
    assert names(oncall_at(schedule, utc(2026, 10, 26, 1, 30))) == ["alice"]


def test_a_custom_rotation_counts_turns_of_its_length(people: dict[str, User]) -> None:
    schedule = services.schedule_create(name="Shifts", time_zone="UTC", layers=[
        LayerSpec("custom", datetime(2026, 12, 1, 0), ["alice", "bob", "carol"], length_seconds=8 * 3600)])
    at = [names(oncall_at(schedule, utc(2026, 12, 1, h))) for h in (0, 7, 8, 16, 23)]
    assert at == [["alice"], ["alice"], ["bob"], ["carol"], ["carol"]]
    assert names(oncall_at(schedule, utc(2026, 12, 2, 0))) == ["alice"]


def test_an_override_spanning_handoffs_replaces_everyone_while_it_lasts(people: dict[str, User]) -> None:
    schedule = weekly(people)
    services.override_create(schedule=schedule, username="carol", starts_at=utc(2026, 12, 6, 12),
                             ends_at=utc(2026, 12, 8, 12))
    assert names(oncall_at(schedule, utc(2026, 12, 6, 11, 59))) == ["alice"]
    assert names(oncall_at(schedule, utc(2026, 12, 7, 9))) == ["carol"]  # bob's handoff is covered
    assert names(oncall_at(schedule, utc(2026, 12, 8, 12))) == ["bob"]
    shifts = oncall_timeline(schedule, utc(2026, 12, 6), utc(2026, 12, 9))
    assert [(s.user.username, s.source, s.starts_at, s.ends_at) for s in shifts] == [
        ("alice", "Layer 1", utc(2026, 12, 6), utc(2026, 12, 6, 12)),
        ("carol", "override", utc(2026, 12, 6, 12), utc(2026, 12, 8, 12)),
        ("bob", "Layer 1", utc(2026, 12, 8, 12), utc(2026, 12, 9)),
    ]


def test_overlapping_overrides_put_both_on_call(people: dict[str, User]) -> None:
    schedule = weekly(people)
    services.override_create(schedule=schedule, username="carol", starts_at=utc(2026, 12, 1), ends_at=utc(2026, 12, 3))
    services.override_create(schedule=schedule, username="dave", starts_at=utc(2026, 12, 2), ends_at=utc(2026, 12, 4))
    assert names(oncall_at(schedule, utc(2026, 12, 2, 12))) == ["carol", "dave"]
    assert names(oncall_at(schedule, utc(2026, 12, 3, 12))) == ["dave"]


def test_the_top_layer_wins_and_lower_layers_show_through_where_it_has_nobody(people: dict[str, User]) -> None:
    schedule = services.schedule_create(name="Stacked", time_zone="UTC", layers=[
        LayerSpec("weekly", datetime(2026, 11, 30, 9), ["alice", "bob"]),      # bottom
        LayerSpec("daily", datetime(2026, 12, 5, 0), ["carol"], name="Weekend cover"),  # top, starts later
    ])
    assert names(oncall_at(schedule, utc(2026, 12, 4, 23))) == ["alice"]  # top not started yet
    assert names(oncall_at(schedule, utc(2026, 12, 5, 1))) == ["carol"]
    shifts = oncall_timeline(schedule, utc(2026, 12, 4), utc(2026, 12, 6))
    assert [(s.user.username, s.source) for s in shifts] == [("alice", "Layer 1"), ("carol", "Weekend cover")]


def test_an_empty_layer_falls_through_and_no_layer_is_a_gap(people: dict[str, User]) -> None:
    schedule = weekly(people)
    top = services.layer_add(schedule=schedule, spec=LayerSpec("daily", datetime(2026, 11, 30, 9), ["dave"]))
    top.participants.all().delete()
    assert names(oncall_at(schedule, utc(2026, 12, 1))) == ["alice"]
    empty = services.schedule_create(name="Empty", time_zone="UTC")
    assert oncall_at(empty, utc(2026, 12, 1)) == []
    assert oncall_gaps(empty, utc(2026, 12, 1), utc(2026, 12, 2)) == [(utc(2026, 12, 1), utc(2026, 12, 2))]


def test_a_deleted_users_turn_falls_through_without_moving_the_others(people: dict[str, User]) -> None:
    schedule = services.schedule_create(name="Primary", time_zone="UTC", layers=[
        LayerSpec("weekly", datetime(2026, 11, 30, 9), ["carol"], name="Backstop"),
        LayerSpec("weekly", datetime(2026, 11, 30, 9), ["alice", "bob", "dave"], name="Main"),
    ])
    people["bob"].delete()
    assert names(oncall_at(schedule, utc(2026, 12, 1))) == ["alice"]
    assert names(oncall_at(schedule, utc(2026, 12, 8))) == ["carol"]  # bob's week: the layer below
    assert names(oncall_at(schedule, utc(2026, 12, 15))) == ["dave"]  # dave keeps his week
    people["dave"].is_active = False
    people["dave"].save()
    assert names(oncall_at(schedule, utc(2026, 12, 15))) == ["carol"]


def test_a_gap_is_reported_where_nobody_is_on_call(people: dict[str, User]) -> None:
    schedule = services.schedule_create(name="Weekdays", time_zone="UTC", layers=[
        LayerSpec("weekly", datetime(2026, 11, 30, 9), ["alice"])])
    bob = people["bob"]
    bob.delete()
    assert oncall_gaps(schedule, utc(2026, 11, 29), utc(2026, 12, 1)) == [(utc(2026, 11, 29), utc(2026, 11, 30, 9))]
