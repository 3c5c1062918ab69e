"""The incident commander's pages: list, detail with htmx actions, declare form.

Views parse input, call a selector or a ``lifecycle`` function and render; they never change an
incident themselves. An ``ApplicationError`` from the lifecycle becomes an inline message next to
the form the user used, with its 4xx status (htmx is configured to swap 400/409/422 responses).
Without JavaScript every form still works: the POST redirects back with a Django message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from opsportal.lib import fragments, memo
from opsportal.lib.durations import compact
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.htmx import HtmxHttpRequest
from opsportal.lib.views import apply_error

from . import lifecycle
from .forms import (
    AssignForm,
    DeclareIncidentForm,
    NoteForm,
    ResolveForm,
    SeverityForm,
    commander_choices,
    severity_options,
)
from .models import Incident, Source, Status
from .registry import INCIDENT_CHANGED
from .selectors import (
    incident_get_for_user,
    incident_list_for_user,
    incident_timeline_version,
    incident_timeline_window,
)
from .timeline_rows import TimelineRow

STATUS_FILTERS = [("open", "Open"), *Status.choices, ("all", "All")]
LIST_LIMIT = 200
TIMELINE_LIMIT = 50  # events on the page; older ones are a "show older" link away
DETAIL = "incidents/incident_detail.html"
INLINE_ERROR_HEADER = "X-Inline-Error"
BUTTON_ACTIONS = ("acknowledge", "mitigate", "reopen", "close")


def _wants_partial(request: HtmxHttpRequest) -> bool:
    """htmx asked for a fragment (a history restore wants the whole page back)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


# --- List ------------------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def incident_list(request: HtmxHttpRequest) -> HttpResponse:
    """Open incidents by urgency; ``?status=`` and ``?severity=`` filter, the table refreshes itself."""
    status = request.GET.get("status") or "open"
    severity = request.GET.get("severity") or ""
    incidents: list[Incident] = []
    total = 0
    error = ""
    code = 200
    try:
        qs = incident_list_for_user(
            user=request.user,
            statuses=None if status == "all" else [status],
            severities=[severity] if severity else None,
        )
        incidents = list(qs[:LIST_LIMIT])
        total = len(incidents) if len(incidents) < LIST_LIMIT else qs.count()
    except ApplicationError as exc:
        error, code = exc.message, exc.status_code

    def url(**change: str) -> str:
        params = {"status": status, "severity": severity, **change}
        query = urlencode({k: v for k, v in params.items() if v and not (k == "status" and v == "open")})
        return reverse("incidents:list") + (f"?{query}" if query else "")

    context = {
        "nav": "list",
        "incidents": incidents,
        "total": total,
        "limit": LIST_LIMIT,
        "error": error,
        "status": status,
        "severity": severity,
        "refresh_url": url(),
        "status_links": [
            {"value": v, "label": label, "url": url(status=v), "active": v == status} for v, label in STATUS_FILTERS
        ],
        "severity_links": [{"value": "", "label": "Any", "url": url(severity=""), "active": not severity}]
        + [
            {"value": s.name, "label": s.name, "title": s.label, "colour": s.colour,
             "url": url(severity=s.name), "active": s.name == severity}
            for s in severity_options()
        ],
    }
    template = "incidents/incident_list.html#rows" if _wants_partial(request) else "incidents/incident_list.html"
    return _inline(render(request, template, context, status=code))


# --- Detail ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaClock:
    """One SLA target as the incident page shows it."""

    name: str
    due: datetime
    running: bool
    breached: bool
    recorded: bool
    outcome: str


def _sla_clocks(incident: Incident) -> list[SlaClock]:
    now = timezone.now()
    response_done = incident.acknowledged_at or (None if incident.status == Status.TRIGGERED else incident.resolved_at)
    resolution_done = incident.resolved_at or incident.closed_at
    clocks = []
    for name, due, running, done, recorded in (
        ("Response", incident.response_due_at, incident.status == Status.TRIGGERED, response_done,
         incident.response_breached_at),
        ("Resolution", incident.resolve_due_at, incident.is_open, resolution_done, incident.resolve_breached_at),
    ):
        if running:
            outcome = ""
            breached = bool(recorded) or due <= now
        elif done is None:
            outcome, breached = "stopped", bool(recorded)
        else:
            late = done - due
            breached = bool(recorded) or late > timedelta(0)
            outcome = f"missed by {_short(late)}" if late > timedelta(0) else f"met with {_short(-late)} to spare"
        clocks.append(SlaClock(name, due, running, breached, bool(recorded), outcome))
    return clocks


def _short(delta: timedelta) -> str:
    return compact(delta, seconds=True)


def _get_incident(request: HtmxHttpRequest, pk: int) -> Incident:
    try:
        return incident_get_for_user(user=request.user, pk=pk)
    except Incident.DoesNotExist:
        raise Http404(f"Incident #{pk} does not exist.") from None


def _detail_context(
    request: HtmxHttpRequest,
    incident: Incident,
    *,
    errors: dict[str, str] | None = None,
    bound: dict[str, forms.Form] | None = None,
) -> dict[str, Any]:
    allowed = {action for action, statuses in lifecycle.ALLOWED.items() if incident.status in statuses}
    errors = dict(errors or {})
    # Button actions report under the buttons in the title bar, and so does an action whose form
    # is not on the page any more (the incident moved on); forms with fields report inline.
    top = [message for action, message in errors.items() if action in BUTTON_ACTIONS or action not in allowed]
    bound = bound or {}
    return {
        "nav": "list",
        "incident": incident,
        "allowed": allowed,
        "errors": errors,
        "top_errors": top,
        "sla": _sla_clocks(incident),
        "labels": sorted((incident.labels or {}).items()),
        **_timeline_context(request, incident),
        "note_form": bound.get("note") or NoteForm(),
        "resolve_form": bound.get("resolve") or ResolveForm(),
        # The pickers' options as plain rows: one query each (a form field's choices would count
        # the rows first and read them through a server-side cursor).
        **_commander_picker(incident, allowed),
        "severities": (list(severity_options().values_list("name", "label")) if "change_severity" in allowed
                       else []),
    }


def _commander_picker(incident: Incident, allowed: set[str]) -> dict[str, Any]:
    rows, more = commander_choices(incident.commander) if "assign" in allowed else ([], False)
    return {"commanders": rows, "more_commanders": more}


def _timeline_before(request: HtmxHttpRequest) -> int | None:
    raw = request.GET.get("timeline_before", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ApplicationError("timeline_before must be an event id (a whole number).",
                               extra={"field": "timeline_before"})
    return int(raw)


def _timeline_context(request: HtmxHttpRequest, incident: Incident,
                      version: tuple[int, str] | None = None) -> dict[str, Any]:
    """The newest TIMELINE_LIMIT events (or those before ``?timeline_before=``), the links to older
    and newest events (hx-get for the fragment, href for the page without JS) and the poll URL,
    which carries the version shown so an unchanged timeline answers 204. Events are never edited,
    so the rendered rows are reused while the version (count and newest time) stays the same."""
    counted = version or incident_timeline_version(incident=incident)

    def rows(before: int | None) -> dict[str, Any]:
        window = incident_timeline_window(incident=incident, before=before, limit=TIMELINE_LIMIT, version=counted)
        html = render_to_string(f"{DETAIL}#timeline_rows", {"timeline_rows": [TimelineRow.of(e) for e in window.events]})
        return {"rows_html": html, "shown": len(window.events), "older": window.older}

    def shown(before: int | None) -> dict[str, Any]:
        return fragments.cached(("timeline", incident.key, counted[1], before, TIMELINE_LIMIT), lambda: rows(before))

    error = ""
    before: int | None = None
    try:
        before = _timeline_before(request)
        window = shown(before)
    except ApplicationError as exc:
        error, before = exc.message, None
        window = shown(None)
    fragment = reverse("incidents:timeline", args=[incident.pk])
    page = reverse("incidents:detail", args=[incident.pk])

    def link(before: int | None) -> dict[str, str]:
        query = f"?timeline_before={before}" if before else ""
        return {"hx": fragment + query, "href": page + query + "#timeline"}

    poll = {"timeline_before": before} if before else {}
    return {
        "timeline": {**window, "total": counted[0], "before": before},
        "timeline_error": error,
        "timeline_older": link(window["older"]) if window["older"] else None,
        "timeline_newest": link(None) if before else None,
        "timeline_poll_url": fragment + "?" + urlencode({**poll, "since": counted[1]}),
    }


@require_GET
@login_required
@vary_on_headers("HX-Request")
def incident_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    with memo.scope():  # panels asking the same question (a version) read it once
        incident = _get_incident(request, pk)
        context = _detail_context(request, incident)
        return _inline(render(request, DETAIL, context, status=400 if context["timeline_error"] else 200))


@require_GET
@login_required
def incident_timeline_partial(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The timeline alone; the detail page polls it so events from others appear. The poll sends
    ``since``, the version it shows: while no event was added the answer is 204 with no body."""
    since = request.GET.get("since")
    version = incident_timeline_version(incident=pk)  # before loading the incident
    if since and since == version[1]:
        return HttpResponse(status=204)

    def section() -> dict[str, Any]:
        incident = _get_incident(request, pk)
        context = _timeline_context(request, incident, version=version)
        html = render_to_string(f"{DETAIL}#timeline", {**context, "incident": incident}, request)
        return {"html": html, "status": 400 if context["timeline_error"] else 200}

    # The same for everyone watching this version: drawn once per version and "older" cursor.
    drawn = fragments.cached(("timeline-section", pk, version[1], request.GET.get("timeline_before", "")), section)
    return _inline(HttpResponse(drawn["html"], status=drawn["status"]))


def _panels(request: HtmxHttpRequest, incident: Incident, *, status: int = 200, **kwargs: Any) -> HttpResponse:
    """The header+actions fragment, with the timeline and the messages swapped out of band."""
    context = _detail_context(request, incident, **kwargs)
    html = render_to_string(f"{DETAIL}#header", context, request)
    html += render_to_string(f"{DETAIL}#timeline", {**context, "oob": True}, request)
    html += render_to_string("base.html#messages", {"oob": True}, request)
    response = HttpResponse(html, status=status)
    # The registered panels (escalation, deliveries) refresh themselves on this event.
    response["HX-Trigger"] = INCIDENT_CHANGED
    return _inline(response)


def _inline(response: HttpResponse) -> HttpResponse:
    """Mark a 4xx whose body is meant to be swapped in (a form error), so app.js keeps
    django-htmx's DEBUG handler from replacing the page with it."""
    if response.status_code >= 400:
        response[INLINE_ERROR_HEADER] = "true"
    return response


def _act(
    request: HtmxHttpRequest,
    pk: int,
    action: str,
    run: Callable[[Incident], str],
    form: forms.Form | None = None,
) -> HttpResponse:
    """Validate ``form``, run one lifecycle call, answer with fresh panels (htmx) or a redirect."""
    incident = _get_incident(request, pk)
    if form is not None and not form.is_valid():
        message = " ".join(str(e) for errs in form.errors.values() for e in errs)
        return _failed(request, incident, action, message, 400, form)
    try:
        done = run(incident)
    except ApplicationError as exc:
        return _failed(request, incident, action, exc.message, exc.status_code, form)
    messages.success(request, done)
    if request.htmx:
        return _panels(request, _get_incident(request, pk))
    return redirect("incidents:detail", pk=pk)


def _failed(
    request: HtmxHttpRequest, incident: Incident, action: str, message: str, status: int, form: forms.Form | None
) -> HttpResponse:
    if request.htmx:
        fresh = _get_incident(request, incident.pk)
        return _panels(request, fresh, status=status, errors={action: message},
                       bound={action: form} if form is not None else None)
    messages.error(request, message)
    return redirect("incidents:detail", pk=incident.pk)


WEB = Source.WEB


@require_POST
@login_required
def incident_acknowledge(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    def run(incident: Incident) -> str:
        lifecycle.incident_acknowledge(incident=incident, actor=request.user, source=WEB)
        return f"Acknowledged #{incident.pk}."

    return _act(request, pk, "acknowledge", run)


@require_POST
@login_required
def incident_mitigate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    def run(incident: Incident) -> str:
        lifecycle.incident_mitigate(incident=incident, actor=request.user, source=WEB)
        return f"Marked #{incident.pk} as mitigated."

    return _act(request, pk, "mitigate", run)


@require_POST
@login_required
def incident_resolve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    form = ResolveForm(request.POST)

    def run(incident: Incident) -> str:
        lifecycle.incident_resolve(incident=incident, actor=request.user, source=WEB,
                                   note=form.cleaned_data["note"].strip())
        return f"Resolved #{incident.pk}."

    return _act(request, pk, "resolve", run, form)


@require_POST
@login_required
def incident_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    def run(incident: Incident) -> str:
        lifecycle.incident_reopen(incident=incident, actor=request.user, source=WEB)
        return f"Reopened #{incident.pk}: it needs acknowledging again."

    return _act(request, pk, "reopen", run)


@require_POST
@login_required
def incident_close(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    def run(incident: Incident) -> str:
        lifecycle.incident_close(incident=incident, actor=request.user, source=WEB)
        return f"Closed #{incident.pk}."

    return _act(request, pk, "close", run)


@require_POST
@login_required
def incident_assign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Set the commander: the "Assign me" button posts the user's own id, the picker any active user."""
    form = AssignForm(request.POST)

    def run(incident: Incident) -> str:
        commander = form.cleaned_data["commander"]
        lifecycle.incident_assign_commander(incident=incident, commander=commander, actor=request.user, source=WEB)
        return f"{commander.get_username()} commands #{incident.pk}." if commander else f"#{incident.pk} has no commander."

    return _act(request, pk, "assign", run, form)


@require_POST
@login_required
def incident_change_severity(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    form = SeverityForm(request.POST)

    def run(incident: Incident) -> str:
        severity = form.cleaned_data["severity"]
        lifecycle.incident_change_severity(incident=incident, severity=severity, actor=request.user, source=WEB)
        return f"#{incident.pk} is now {severity.name}; SLA deadlines recomputed."

    return _act(request, pk, "change_severity", run, form)


@require_POST
@login_required
def incident_add_note(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    form = NoteForm(request.POST)

    def run(incident: Incident) -> str:
        lifecycle.incident_add_note(incident=incident, text=form.cleaned_data["text"], actor=request.user,
                                    source=WEB)
        return "Note added."

    return _act(request, pk, "note", run, form)


# --- Declare ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def incident_declare(request: HtmxHttpRequest) -> HttpResponse:
    """Declare an incident by hand; invalid input re-renders the form with inline errors (400)."""
    form = DeclareIncidentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = lifecycle.incident_open(
                title=data["title"], severity=data["severity"], service=data["service"],
                description=data["description"], source=Source.WEB, actor=request.user,
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Declared #{incident.pk}. The response clock is running.")
            return redirect("incidents:detail", pk=incident.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "severities": severity_options(), "nav": "declare"}
    return render(request, "incidents/incident_declare.html", context, status=status)
