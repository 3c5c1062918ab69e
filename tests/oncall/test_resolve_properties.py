"""Properties of the rules over random schedules (in memory: ``resolve`` is a pure function of
the rows): handoffs never go backwards, every time falls in exactly one turn, daily and weekly
handoffs keep their wall-clock time across DST, and the calendar agrees with "who is on call at t"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.oncall import resolve
from incidents.oncall.resolve import LayerRows, OverrideRows, ScheduleRows

# Zones with DST of an hour, half an hour (Lord Howe), southern-hemisphere DST and none.
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "UTC",
         "America/Sao_Paulo", "Pacific/Chatham"]
PEOPLE = [User(pk=n, username=f"user{n}") for n in range(1, 6)]
LENGTHS = st.one_of(st.sampled_from([86_400, 604_800]), st.integers(min_value=60, max_value=20 * 86_400))
HANDOFFS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31))
INSTANTS = st.datetimes(min_value=datetime(2023, 6, 1), max_value=datetime(2029, 6, 1), timezones=st.just(UTC))


@st.composite
def layers(draw: st.DrawFn) -> LayerRows:
    users = draw(st.lists(st.sampled_from([*PEOPLE, None]), min_size=0, max_size=4))
    return LayerRows(name=f"L{draw(st.integers(0, 9))}", handoff=draw(HANDOFFS).replace(microsecond=0),
                     length_seconds=draw(LENGTHS), users=tuple(users))


@st.composite
def schedules(draw: st.DrawFn) -> ScheduleRows:
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 3, 1), timezones=st.just(UTC)))
        overrides.append(OverrideRows(start, start + timedelta(seconds=draw(st.integers(1, 10 * 86_400))),
                                      draw(st.sampled_from(PEOPLE))))
    return ScheduleRows(zone=ZoneInfo(draw(st.sampled_from(ZONES))), layers=tuple(draw(st.lists(layers(), max_size=3))),
                        overrides=tuple(sorted(overrides, key=lambda o: o.starts_at)))


@settings(max_examples=300, deadline=None)
@given(layer=layers(), zone=st.sampled_from(ZONES), at=INSTANTS)
def test_every_time_falls_in_exactly_one_turn(layer: LayerRows, zone: str, at: datetime) -> None:
    tz = ZoneInfo(zone)
    turn = resolve.turn_at(layer, tz, at)
    assert resolve.handoff_at(layer, tz, turn) <= at < resolve.handoff_at(layer, tz, turn + 1)


@settings(max_examples=300, deadline=None)
@given(layer=layers(), zone=st.sampled_from(ZONES), turn=st.integers(-400, 400))
def test_handoffs_never_go_backwards(layer: LayerRows, zone: str, turn: int) -> None:
    tz = ZoneInfo(zone)
    assert resolve.handoff_at(layer, tz, turn) <= resolve.handoff_at(layer, tz, turn + 1)


@settings(max_examples=300, deadline=None)
@given(handoff=HANDOFFS, zone=st.sampled_from(ZONES), turn=st.integers(0, 300), daily=st.booleans())
def test_daily_and_weekly_handoffs_keep_their_wall_clock_time(handoff: datetime, zone: str, turn: int,
                                                             daily: bool) -> None:
    tz = ZoneInfo(zone)
    layer = LayerRows("L", handoff.replace(microsecond=0), 86_400 if daily else 604_800, (PEOPLE[0],))
    local = resolve.handoff_at(layer, tz, turn).astimezone(tz).replace(tzinfo=None)
    expected = layer.handoff + timedelta(days=turn if daily else 7 * turn)
    if local != expected:  # only where that wall-clock time never showed (clocks jumped past it)
        assert local > expected
        assert local - expected <= timedelta(hours=1)
        assert expected.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) != expected


@settings(max_examples=150, deadline=None)
@given(rows=schedules(), start=st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 3, 1),
                                            timezones=st.just(UTC)),
       hours=st.integers(1, 24 * 21), probes=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=8))
def test_the_calendar_agrees_with_who_is_on_call(rows: ScheduleRows, start: datetime, hours: int,
                                                 probes: list[float]) -> None:
    end = start + timedelta(hours=hours)
    shifts = resolve.shifts(rows, start, end)
    gaps = resolve.gaps(rows, start, end)
    for fraction in probes:
        total = (end - start) // timedelta(microseconds=1)
        at = start + timedelta(microseconds=min(int(total * fraction), total - 1))
        on_call = {(u.pk, source) for u, source in resolve.resolve(rows, at)}
        covering = {(s.user.pk, s.source) for s in shifts if s.starts_at <= at < s.ends_at}
        assert covering == on_call
        assert any(a <= at < b for a, b in gaps) == (not on_call)
    for shift in shifts:
        assert start <= shift.starts_at < shift.ends_at <= end
