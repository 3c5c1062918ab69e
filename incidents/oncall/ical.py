"""Calendar feeds (iCalendar, RFC 5545, written with the ``icalendar`` package): a schedule's shifts
and a user's shifts on every schedule. The secret token in the URL is the only credential, so
calendar apps can subscribe; a wrong token is a 404, like a page that does not exist."""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import resolve, selectors
from .models import CalendarFeed, Schedule

PAST = timedelta(days=7)
AHEAD = timedelta(days=90)
# A feed lists at most this many shifts (a one-minute rotation would otherwise list 130,000).
MAX_EVENTS = 2_000


def _calendar(name: str, shifts: list[tuple[Schedule, resolve.Shift]], now: datetime) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Opsportal//On-call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for schedule, shift in shifts[:MAX_EVENTS]:
        event = icalendar.Event()
        # Stable per shift, so a calendar app updates an event instead of duplicating it.
        event.add("uid", f"oncall-{schedule.pk}-{shift.user.pk}-{int(shift.starts_at.timestamp())}"
                         f"-{shift.source}@{settings.PUBLIC_URL.split('//')[-1].split('/')[0] or 'opsportal'}")
        event.add("summary", f"On call: {shift.user.get_username()} ({schedule.name})")
        event.add("description", f"{schedule.name}, {shift.source}")
        event.add("dtstart", shift.starts_at)
        event.add("dtend", shift.ends_at)
        event.add("dtstamp", now)
        cal.add_component(event)
    return bytes(cal.to_ical())


def _respond(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
def schedule_feed(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    schedule = selectors.schedule_list_for_user(user=request.user, overrides_after=now - PAST).filter(
        ical_token=token).first()
    if schedule is None:
        raise Http404("No such calendar.")
    shifts = resolve.oncall_timeline(schedule, now - PAST, now + AHEAD)
    return _respond(_calendar(f"On call: {schedule.name}", [(schedule, s) for s in shifts], now))


@require_GET
def user_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        raise Http404("No such calendar.")
    now = timezone.now()
    mine: list[tuple[Schedule, resolve.Shift]] = []
    for schedule in selectors.schedules_of_person(user=feed.user, person=feed.user, overrides_after=now - PAST):
        mine += [(schedule, s) for s in resolve.oncall_timeline(schedule, now - PAST, now + AHEAD)
                 if s.user.pk == feed.user.pk]
    mine.sort(key=lambda pair: pair[1].starts_at)
    return _respond(_calendar(f"On call: {feed.user.get_username()}", mine, now))
