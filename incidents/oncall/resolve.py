"""Who is on call when: a pure function of a schedule's rows (docs/oncall.md, "How a schedule is
read").

The rules, in order:
1. An override covering the time (``starts_at <= at < ends_at``) replaces whoever the layers put
   on call; several overlapping overrides put all their users on call.
2. Otherwise the layers are read top first (highest ``order``): the first one with someone on
   call wins; a layer with nobody at that time (before its first handoff, no participants, or the
   turn of a deleted or deactivated user) lets the layers below show through.
3. Nobody: an empty list, a gap.

A layer's k-th handoff is its first handoff plus k turns, in **wall-clock** time in the schedule's
zone, so "Monday 09:00" stays 09:00 across a DST change (that week's turn is an hour shorter or
longer). A wall-clock time that does not exist (the hour skipped in spring) hands off when the
clocks jump; one that happens twice (autumn) hands off at the first.

The escalation engine calls :func:`oncall_at`; the calendar, feeds and gap warnings use
:func:`oncall_timeline` and :func:`oncall_gaps`. Both read the rows once and then compute in
memory, so callers may prefetch ``layers__participants__user`` and ``overrides__user``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import Prefetch

from .models import LayerParticipant, Schedule

OVERRIDE = "override"


@dataclass(frozen=True)
class Shift:
    """``user`` is on call from ``starts_at`` to ``ends_at`` because of ``source``: a layer's name,
    or "override"."""

    user: User
    starts_at: datetime
    ends_at: datetime
    source: str


@dataclass(frozen=True)
class LayerRows:
    name: str
    handoff: datetime  # naive wall-clock time of the first handoff, in the schedule's zone
    length_seconds: int
    users: tuple[User | None, ...]  # one per turn, in rotation order; None: a deleted user


@dataclass(frozen=True)
class OverrideRows:
    starts_at: datetime
    ends_at: datetime
    user: User


@dataclass(frozen=True)
class ScheduleRows:
    """Everything the rules read: the zone, the layers top first, the overrides."""

    zone: ZoneInfo
    layers: tuple[LayerRows, ...]
    overrides: tuple[OverrideRows, ...]


def schedule_rows(schedule: Schedule, *, start: datetime | None = None, end: datetime | None = None) -> ScheduleRows:
    """Read the schedule's rows (prefetched ones are used as they are). Only overrides that
    overlap ``start``..``end`` are needed when a window is given."""
    prefetched = getattr(schedule, "_prefetched_objects_cache", {})
    layer_rows = (schedule.layers.all() if "layers" in prefetched else schedule.layers.prefetch_related(
        Prefetch("participants", queryset=LayerParticipant.objects.select_related("user"))))
    override_rows = schedule.overrides.all() if "overrides" in prefetched else schedule.overrides.select_related("user")
    if "overrides" not in prefetched and start is not None:
        override_rows = override_rows.filter(ends_at__gt=start)  # index override_schedule_ends
    layers = sorted(layer_rows, key=lambda layer: (-layer.order, layer.pk))
    overrides = [
        o for o in override_rows
        if (end is None or o.starts_at < end) and (start is None or o.ends_at > start)
    ]
    return ScheduleRows(
        zone=ZoneInfo(schedule.time_zone),
        layers=tuple(
            LayerRows(
                name=layer.display_name,
                handoff=layer.handoff,
                length_seconds=layer.length_seconds,
                users=tuple(p.user for p in sorted(layer.participants.all(), key=lambda p: (p.position, p.pk))),
            )
            for layer in layers
        ),
        overrides=tuple(
            OverrideRows(o.starts_at, o.ends_at, o.user) for o in sorted(overrides, key=lambda o: (o.starts_at, o.pk))
        ),
    )


def oncall_at(schedule: Schedule, at: datetime) -> list[User]:
    """Who is on call on ``schedule`` at ``at`` (an aware datetime); [] when nobody is."""
    _aware(at)
    rows = schedule_rows(schedule, start=at, end=at + timedelta(microseconds=1))
    return [user for user, _ in resolve(rows, at)]


def oncall_timeline(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Every shift overlapping ``start``..``end`` (cut to the window), ordered by start. A user on
    call from one layer and then, without a break, from another has two shifts (their sources
    differ); turns of the same user back to back are one shift."""
    return shifts(schedule_rows(schedule, start=start, end=end), start, end)


def oncall_gaps(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The windows in ``start``..``end`` when nobody is on call."""
    return gaps(schedule_rows(schedule, start=start, end=end), start, end)


# --- the rules, over rows in memory -----------------------------------------------------------


def resolve(rows: ScheduleRows, at: datetime) -> list[tuple[User, str]]:
    """(user, source) pairs on call at ``at``."""
    covering = _overrides_at(rows, at)
    if covering:
        return covering
    for layer in rows.layers:
        user = layer_user(layer, rows.zone, at)
        if user is not None:
            return [(user, layer.name)]
    return []


def layer_user(layer: LayerRows, zone: ZoneInfo, at: datetime) -> User | None:
    """The layer's person on call at ``at``, or None (before its first handoff, no participants,
    a deleted or deactivated user's turn)."""
    if not layer.users:
        return None
    return _turn_user(layer, turn_at(layer, zone, at))


def handoff_at(layer: LayerRows, zone: ZoneInfo, turn: int) -> datetime:
    """The instant turn number ``turn`` starts (turn 0: the first handoff)."""
    return wall_clock_instant(layer.handoff + timedelta(seconds=turn * layer.length_seconds), zone)


def turn_at(layer: LayerRows, zone: ZoneInfo, at: datetime) -> int:
    """The last turn that has started at ``at`` (negative before the first handoff). Estimated from
    the wall-clock distance, then corrected by the real handoff instants (DST moves them)."""
    local = at.astimezone(zone).replace(tzinfo=None)
    turn = math.floor((local - layer.handoff).total_seconds() / layer.length_seconds)
    while handoff_at(layer, zone, turn) > at:
        turn -= 1
    while handoff_at(layer, zone, turn + 1) <= at:
        turn += 1
    return turn


def wall_clock_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant a wall clock in ``zone`` shows ``local`` (naive), in UTC. Twice in autumn: the
    first. Never in spring (skipped): the instant the clocks jump past it, so handoffs never go
    backwards in time."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # Skipped: the jump is after the instant read with the later offset and at or before the one
    # read with the earlier offset; find the first second whose wall clock is at or past ``local``.
    low = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= local:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0) if high.microsecond else high


def segments(rows: ScheduleRows, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime, list[tuple[User, str]]]]:
    """Consecutive windows covering ``start``..``end`` in which the same people are on call: the
    window is cut at every handoff and override edge inside it. Each layer's turns are walked in
    step with the windows (not looked up again per window), so a month of one-minute turns costs
    a pass over its 40,000 handoffs."""
    _aware(start)
    _aware(end)
    if end <= start:
        return
    points = {start, end}
    walks: list[tuple[LayerRows, int, list[tuple[datetime, int]]]] = []
    for layer in rows.layers:
        if not layer.users:
            continue
        first = turn_at(layer, rows.zone, start)
        starts: list[tuple[datetime, int]] = []
        turn = max(first + 1, 0)
        while (moment := handoff_at(layer, rows.zone, turn)) < end:
            if moment > start:
                starts.append((moment, turn))
                points.add(moment)
            turn += 1
        walks.append((layer, first, starts))
    for override in rows.overrides:
        for moment in (override.starts_at, override.ends_at):
            if start < moment < end:
                points.add(moment)
    ordered = sorted(points)
    current = [first for _, first, _ in walks]
    position = [0] * len(walks)
    for left, right in zip(ordered, ordered[1:], strict=False):
        for index, (_, _, starts) in enumerate(walks):
            while position[index] < len(starts) and starts[position[index]][0] <= left:
                current[index] = starts[position[index]][1]
                position[index] += 1
        covering = _overrides_at(rows, left)
        if covering:
            yield left, right, covering
            continue
        for index, (layer, _, _) in enumerate(walks):
            user = _turn_user(layer, current[index])
            if user is not None:
                yield left, right, [(user, layer.name)]
                break
        else:
            yield left, right, []


def _overrides_at(rows: ScheduleRows, at: datetime) -> list[tuple[User, str]]:
    covering: list[tuple[User, str]] = []
    for override in rows.overrides:
        if override.starts_at <= at < override.ends_at and override.user.is_active:
            if all(user.pk != override.user.pk for user, _ in covering):
                covering.append((override.user, OVERRIDE))
    return covering


def _turn_user(layer: LayerRows, turn: int) -> User | None:
    if turn < 0 or not layer.users:
        return None
    user = layer.users[turn % len(layer.users)]
    return user if user is not None and user.is_active else None


def shifts(rows: ScheduleRows, start: datetime, end: datetime) -> list[Shift]:
    """The windows of :func:`segments`, merged per user and source."""
    return shifts_and_gaps(rows, start, end)[0]


def gaps(rows: ScheduleRows, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return shifts_and_gaps(rows, start, end)[1]


def shifts_and_gaps(rows: ScheduleRows, start: datetime,
                    end: datetime) -> tuple[list[Shift], list[tuple[datetime, datetime]]]:
    """One pass over the windows: the shifts (merged per user and source) and the gaps."""
    done: list[Shift] = []
    found: list[tuple[datetime, datetime]] = []
    running: dict[tuple[int, str], tuple[User, datetime]] = {}
    for left, right, people in segments(rows, start, end):
        now_on = {(user.pk, source): user for user, source in people}
        for key in [k for k in running if k not in now_on]:
            user, since = running.pop(key)
            done.append(Shift(user, since, left, key[1]))
        for key, user in now_on.items():
            running.setdefault(key, (user, left))
        if not people:
            if found and found[-1][1] == left:
                found[-1] = (found[-1][0], right)
            else:
                found.append((left, right))
    for key, (user, since) in running.items():
        done.append(Shift(user, since, end, key[1]))
    done.sort(key=lambda s: (s.starts_at, s.source != OVERRIDE, s.user.get_username()))
    return done, found


def next_change(rows: ScheduleRows, at: datetime, horizon: timedelta) -> tuple[datetime, list[User]] | None:
    """When the people on call next change after ``at`` (within ``horizon``), and who is on call
    then; None when nothing changes within it."""
    current = {user.pk for user, _ in resolve(rows, at)}
    for left, _right, people in segments(rows, at, at + horizon):
        if left > at and {user.pk for user, _ in people} != current:
            return left, [user for user, _ in people]
    return None


def _aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("on-call times must be aware datetimes (with a time zone)")
