"""What pages show about a schedule: who is on call now, who is next and when, the calendar of
the coming weeks and its gaps, bounded however short the rotation is (docs/oncall.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from . import resolve
from .models import Schedule

# Looking for the next change, in growing windows: a daily rotation answers in the first.
NEXT_HORIZONS = (timedelta(days=1), timedelta(days=8), timedelta(days=36), timedelta(days=370))
CALENDAR_DAYS = 28
# Shifts listed per calendar day; the rest are counted ("and 1,420 more").
SHIFTS_PER_DAY = 6
# Gap warnings listed; the rest are counted.
GAPS_SHOWN = 10


@dataclass
class NowAndNext:
    schedule: Schedule
    now: list[User]
    next_at: datetime | None
    next_users: list[User]


def now_and_next(schedule: Schedule, at: datetime) -> NowAndNext:
    rows = resolve.schedule_rows(schedule, start=at)
    current = [user for user, _ in resolve.resolve(rows, at)]
    for horizon in NEXT_HORIZONS:
        change = resolve.next_change(rows, at, horizon)
        if change is not None:
            return NowAndNext(schedule, current, change[0], change[1])
    return NowAndNext(schedule, current, None, [])


@dataclass
class Day:
    day: date
    shifts: list[resolve.Shift] = field(default_factory=list)
    more: int = 0


@dataclass
class Calendar:
    days: list[Day]
    gaps: list[tuple[datetime, datetime]]
    more_gaps: int
    shift_count: int


def calendar(schedule: Schedule, start: datetime, days: int = CALENDAR_DAYS) -> Calendar:
    """The next ``days`` days from ``start``'s local midnight in the schedule's zone: each day's
    shifts (a shift over several days is listed on each), at most SHIFTS_PER_DAY per day."""
    zone = ZoneInfo(schedule.time_zone)
    first_day = start.astimezone(zone).date()
    begin = resolve.wall_clock_instant(datetime.combine(first_day, datetime.min.time()), zone)
    end = resolve.wall_clock_instant(datetime.combine(first_day + timedelta(days=days), datetime.min.time()), zone)
    rows = resolve.schedule_rows(schedule, start=begin, end=end)
    shifts, gaps = resolve.shifts_and_gaps(rows, begin, end)
    by_day = [Day(first_day + timedelta(days=n)) for n in range(days)]
    for shift in shifts:
        first = (shift.starts_at.astimezone(zone).date() - first_day).days
        last = ((shift.ends_at - timedelta(microseconds=1)).astimezone(zone).date() - first_day).days
        for index in range(max(first, 0), min(last, days - 1) + 1):
            day = by_day[index]
            if len(day.shifts) < SHIFTS_PER_DAY:
                day.shifts.append(shift)
            else:
                day.more += 1
    return Calendar(by_day, gaps[:GAPS_SHOWN], max(len(gaps) - GAPS_SHOWN, 0), len(shifts))
