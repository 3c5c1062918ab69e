"""On-call pages: schedules with who is on call now and next, a schedule's layers (participants
added, removed and reordered with htmx), rotation preview, overrides, a 4-week calendar and gap
warnings, and each user's own page (contact methods, test page, calendar feed). Anyone signed in
reads; staff change schedules; each user changes their own contact methods."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.htmx import HtmxHttpRequest
from opsportal.lib.views import apply_error, page_of, staff_required

from . import paging, resolve, selectors, services, summary
from .forms import ContactMethodForm, LayerForm, OverrideForm, ParticipantForm, ScheduleForm, time_zone_names
from .models import ContactMethod, Layer, LayerParticipant, Schedule

STAFF_ONLY = "Only staff can change on-call schedules."
DETAIL = "oncall/schedule_detail.html"
# Turns shown per layer in the rotation preview.
PREVIEW_TURNS = 6
MY_SHIFTS_DAYS = 28
SCHEDULES_PER_PAGE = 50
OVERRIDES_SHOWN = 100  # the soonest current or upcoming ones; the rest are counted
# The calendar starts at today's midnight in the schedule's zone, less than a day ago: overrides
# over before then are not read.
CALENDAR_LOOKBACK = timedelta(days=1)


def _schedule(request: HttpRequest, pk: int) -> Schedule:
    try:
        return selectors.schedule_get_for_user(user=request.user, pk=pk)
    except Schedule.DoesNotExist:
        raise Http404("No such schedule.") from None


def _me(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user


def _wall_clock(value: datetime) -> datetime:
    """A form's datetime-local value as typed (the form made it aware in the current zone)."""
    return timezone.make_naive(value) if timezone.is_aware(value) else value


@require_http_methods(["GET", "POST"])
@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not request.user.is_staff:
            raise PermissionDenied(STAFF_ONLY)
        if form.is_valid():
            data = form.cleaned_data
            try:
                schedule = services.schedule_create(name=data["name"], time_zone=data["time_zone"],
                                                    description=data["description"])
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"Schedule “{schedule.name}” created: add a layer to put people on call.")
                return redirect("oncall:detail", pk=schedule.pk)
        status = 400
    now = timezone.now()
    page = page_of(request, selectors.schedule_list_for_user(user=request.user, overrides_after=now).order_by("name", "pk"),
                   SCHEDULES_PER_PAGE)
    rows = [summary.now_and_next(s, now) for s in page.object_list]
    return render(request, "oncall/schedule_list.html", {
        "nav": "oncall", "rows": rows, "page": page, "form": form, "time_zones": time_zone_names(),
    }, status=status)


def _preview(schedule: Schedule, now: datetime) -> list[dict[str, Any]]:
    """Each layer's next turns: who, from when."""
    rows = resolve.schedule_rows(schedule)
    zone = rows.zone
    out = []
    layers = sorted(schedule.layers.all(), key=lambda layer: (-layer.order, layer.pk))
    for layer, layer_rows in zip(layers, rows.layers, strict=True):
        turns = []
        if layer_rows.users:
            first = max(resolve.turn_at(layer_rows, zone, now), 0)
            for turn in range(first, first + PREVIEW_TURNS):
                user = layer_rows.users[turn % len(layer_rows.users)]
                turns.append({"user": user, "starts_at": resolve.handoff_at(layer_rows, zone, turn),
                              "usable": user is not None and user.is_active})
        out.append({"layer": layer, "turns": turns,
                    "participants": sorted(layer.participants.all(), key=lambda p: (p.position, p.pk))})
    return out


def _detail_context(request: HttpRequest, schedule: Schedule, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    upcoming = [o for o in schedule.overrides.all() if o.ends_at > now]
    zone = ZoneInfo(schedule.time_zone)
    context: dict[str, Any] = {
        "nav": "oncall", "schedule": schedule, "zone": zone, "now": now,
        "current": summary.now_and_next(schedule, now),
        "layers": _preview(schedule, now),
        "calendar": summary.calendar(schedule, now),
        "overrides": upcoming[:OVERRIDES_SHOWN], "more_overrides": max(len(upcoming) - OVERRIDES_SHOWN, 0),
        "layer_form": LayerForm(initial={"rotation": "weekly", "handoff": now.astimezone(zone).strftime("%Y-%m-%dT09:00")}),
        "override_form": OverrideForm(),
        "participant_form": ParticipantForm(),
        "usernames": list(User.objects.filter(is_active=True).order_by("username").values_list("username", flat=True)[:500]),
        "ical_url": request.build_absolute_uri(f"/oncall/ical/schedule/{schedule.ical_token}.ics"),
        "can_edit": request.user.is_staff,
    }
    context.update(extra)
    return context


def _render_detail(request: HtmxHttpRequest, schedule: Schedule, fragment: str | None = None, *, status: int = 200,
                   **extra: Any) -> HttpResponse:
    try:  # fresh rows after a change, with the overrides the page shows
        schedule = selectors.schedule_get_for_user(user=request.user, pk=schedule.pk,
                                                   overrides_after=timezone.now() - CALENDAR_LOOKBACK)
    except Schedule.DoesNotExist:
        raise Http404("No such schedule.") from None
    template = f"{DETAIL}#{fragment}" if fragment and request.htmx else DETAIL
    with timezone.override(ZoneInfo(schedule.time_zone)):  # times on the page in the schedule's zone
        return render(request, template, _detail_context(request, schedule, **extra), status=status)


@require_GET
@login_required
def schedule_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _schedule(request, pk))


@require_POST
@staff_required(STAFF_ONLY)
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    services.schedule_delete(schedule=schedule)
    messages.success(request, f"Schedule “{schedule.name}” deleted.")
    return redirect("oncall:list")


@require_POST
@staff_required(STAFF_ONLY)
def layer_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    form = LayerForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        names = [n.strip() for n in (data["participants"] or "").split(",") if n.strip()]
        try:
            services.layer_add(schedule=schedule, spec=services.LayerSpec(
                rotation=data["rotation"], handoff=_wall_clock(data["handoff"]), participants=names,
                length_seconds=data["length_seconds"], name=data["name"]))
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            return _render_detail(request, schedule, "layers")
    return _render_detail(request, schedule, "layers", status=400, layer_form=form)


def _layer(request: HttpRequest, schedule: Schedule, layer_pk: int) -> Layer:
    try:
        return selectors.layer_get_for_user(user=request.user, schedule=schedule, pk=layer_pk)
    except Layer.DoesNotExist:
        raise Http404("No such layer.") from None


@require_POST
@staff_required(STAFF_ONLY)
def layer_delete(request: HtmxHttpRequest, pk: int, layer_pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    services.layer_delete(layer=_layer(request, schedule, layer_pk))
    return _render_detail(request, schedule, "layers")


@require_POST
@staff_required(STAFF_ONLY)
def participant_add(request: HtmxHttpRequest, pk: int, layer_pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    layer = _layer(request, schedule, layer_pk)
    form = ParticipantForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.participant_add(layer=layer, username=form.cleaned_data["username"])
        except ApplicationError as exc:
            error = exc.message
    else:
        error = "Choose a user."
    return _render_detail(request, schedule, "layers", status=400 if error else 200,
                          participant_error={"layer": layer.pk, "message": error})


def _participant(layer: Layer, participant_pk: int) -> LayerParticipant:
    found = layer.participants.filter(pk=participant_pk).first()
    if found is None:
        raise Http404("No such participant.")
    return found


@require_POST
@staff_required(STAFF_ONLY)
def participant_remove(request: HtmxHttpRequest, pk: int, layer_pk: int, participant_pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    layer = _layer(request, schedule, layer_pk)
    try:
        services.participant_remove(participant=_participant(layer, participant_pk))
    except ApplicationError as exc:
        return _render_detail(request, schedule, "layers", status=400,
                              participant_error={"layer": layer.pk, "message": exc.message})
    return _render_detail(request, schedule, "layers")


@require_POST
@staff_required(STAFF_ONLY)
def participant_move(request: HtmxHttpRequest, pk: int, layer_pk: int, participant_pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    layer = _layer(request, schedule, layer_pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    services.participant_move(participant=_participant(layer, participant_pk), offset=offset)
    return _render_detail(request, schedule, "layers")


@require_POST
@staff_required(STAFF_ONLY)
def override_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    form = OverrideForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        zone = ZoneInfo(schedule.time_zone)
        try:
            services.override_create(
                schedule=schedule, username=data["user"], actor=request.user,
                starts_at=_wall_clock(data["starts_at"]).replace(tzinfo=zone),
                ends_at=_wall_clock(data["ends_at"]).replace(tzinfo=zone),
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            return _render_detail(request, schedule, "overrides")
    return _render_detail(request, schedule, "overrides", status=400, override_form=form)


@require_POST
@staff_required(STAFF_ONLY)
def override_delete(request: HtmxHttpRequest, pk: int, override_pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    override = selectors.override_list_for_user(user=request.user, schedule=schedule).filter(pk=override_pk).first()
    if override is None:
        raise Http404("No such override.")
    services.override_delete(override=override)
    return _render_detail(request, schedule, "overrides")


# --- the user's own page ------------------------------------------------------------------------


def _me_context(request: HttpRequest, user: User, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    shifts = []
    for schedule in selectors.schedules_of_person(user=request.user, person=user, overrides_after=now):
        shifts += [(schedule, s) for s in resolve.oncall_timeline(schedule, now, now + timedelta(days=MY_SHIFTS_DAYS))
                   if s.user.pk == user.pk][:50]
    shifts.sort(key=lambda pair: pair[1].starts_at)
    feed = services.calendar_feed_for(user=user)
    context: dict[str, Any] = {
        "nav": "oncall", "methods": selectors.contact_methods_for_user(user=user),
        "form": ContactMethodForm(), "shifts": shifts[:50],
        "ical_url": request.build_absolute_uri(f"/oncall/ical/user/{feed.token}.ics"),
        "test_pages": paging.test_pages_for(user=user),
    }
    context.update(extra)
    return context


@require_http_methods(["GET", "POST"])
@login_required
def me(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    form = ContactMethodForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.contact_method_create(user=user, kind=form.cleaned_data["kind"],
                                               value=form.cleaned_data["value"])
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Contact method added: send yourself a test page to check it.")
                return redirect("oncall:me")
        return render(request, "oncall/me.html", _me_context(request, user, form=form), status=400)
    return render(request, "oncall/me.html", _me_context(request, user))


def _my_method(request: HttpRequest, pk: int) -> ContactMethod:
    method = selectors.contact_methods_for_user(user=_me(request)).filter(pk=pk).first()
    if method is None:  # another user's method is as absent as a missing one
        raise Http404("No such contact method.")
    return method


@require_POST
@login_required
def contact_method_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.contact_method_delete(method=_my_method(request, pk))
    messages.success(request, "Contact method removed.")
    return redirect("oncall:me")


@require_POST
@login_required
def contact_method_verify(request: HttpRequest, pk: int) -> HttpResponse:
    services.contact_method_verify(method=_my_method(request, pk))
    messages.success(request, "Marked as verified: pages reach you there.")
    return redirect("oncall:me")


@require_POST
@login_required
def test_page(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    try:
        sent = paging.test_page_send(user=user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Test page queued to {sent} contact method{'s' if sent != 1 else ''}: "
                                  "its status shows below.")
    return redirect("oncall:me")


@require_POST
@login_required
def feed_rotate(request: HttpRequest) -> HttpResponse:
    services.calendar_feed_rotate(user=_me(request))
    messages.success(request, "New calendar address: the old one no longer works.")
    return redirect("oncall:me")


@require_POST
@staff_required(STAFF_ONLY)
def schedule_feed_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    services.schedule_ical_rotate(schedule=_schedule(request, pk))
    messages.success(request, "New calendar address for this schedule: the old one no longer works.")
    return redirect("oncall:detail", pk=pk)
