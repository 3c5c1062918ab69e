"""The Alertmanager panels of the incident page: the alerts table (refreshed in place) and the
silences panel (create, expire, refresh). Everyone signed in reads them; creating, expiring and
refreshing silences need ``alertmanager.manage_silences``, checked by the services (403 with the
reason in the panel otherwise)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident
from incidents.selectors import incident_get_for_user
from opsportal.lib import fragments
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.htmx import HtmxHttpRequest

from .. import selectors, silences
from ..forms import SilenceForm
from ..models import Silence
from ..panels import ALERTS_BODY, SILENCE_PANEL, AlertsView, alerts_panel_context, silence_panel_context


def _get_incident(request: HttpRequest, pk: int) -> Incident:
    try:
        return incident_get_for_user(user=request.user, pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def _panel_response(
    request: HtmxHttpRequest, incident: Incident, *, status: int = 200, **kwargs: Any
) -> HttpResponse:
    return render(request, SILENCE_PANEL, silence_panel_context(request, incident, **kwargs), status=status)


def _after_post(
    request: HtmxHttpRequest, incident: Incident, *, status: int = 200, **kwargs: Any
) -> HttpResponse:
    """htmx gets the panel back; a plain form post goes back to the incident page with a message."""
    if request.htmx:
        return _panel_response(request, incident, status=status, **kwargs)
    if kwargs.get("error"):
        messages.error(request, kwargs["error"])
    elif kwargs.get("form") is not None and kwargs["form"].errors:
        messages.error(request, " ".join(e for errors in kwargs["form"].errors.values() for e in errors))
    return redirect(reverse("incidents:detail", args=[incident.pk]) + "#silences")


@require_GET
@login_required
def incident_alerts(request: HtmxHttpRequest, incident_pk: int) -> HttpResponse:
    """The alerts panel's body alone: paging, search and the periodic refresh ask for it.

    The refresh sends ``since``, the version its page shows: while nothing changed the answer is
    204 with no body (htmx keeps the page as it is), after one small aggregate query and the latest
    delivery's id, however many alerts the incident has (the incident itself is loaded only to draw
    the panel). Without htmx (a bookmarked fragment URL) the same view is the incident page's."""
    if not request.htmx:
        incident = _get_incident(request, incident_pk)
        query = request.GET.copy()
        query.pop("since", None)
        suffix = f"?{query.urlencode()}" if query else ""
        return redirect(reverse("incidents:detail", args=[incident.pk]) + suffix + "#alerts")
    try:
        view = AlertsView.from_query(request.GET)
    except ApplicationError:
        incident = _get_incident(request, incident_pk)
        response = render(request, ALERTS_BODY, alerts_panel_context(request, incident), status=400)
        response["X-Inline-Error"] = "true"  # swapped in place, like a form error (static/js/app.js)
        return response
    counts = selectors.alert_counts_for_incident(user=request.user, incident=incident_pk)
    if request.GET.get("since") == counts.version:
        return HttpResponse(status=204)

    def body() -> dict[str, Any]:
        incident = _get_incident(request, incident_pk)
        context = alerts_panel_context(request, incident, view=view, counts=counts)
        return {"html": render_to_string(ALERTS_BODY, context, request)}

    # The body is the same for everyone watching this version: drawn once per version and view.
    return HttpResponse(fragments.cached(("alerts-body", incident_pk, counts.version, view.query()), body)["html"])


@require_GET
@login_required
def silence_panel(request: HtmxHttpRequest, incident_pk: int) -> HttpResponse:
    return _panel_response(request, _get_incident(request, incident_pk))


@require_POST
@login_required
def silence_create(request: HtmxHttpRequest, incident_pk: int) -> HttpResponse:
    incident = _get_incident(request, incident_pk)
    form = SilenceForm(request.POST)
    if not form.is_valid():
        return _after_post(request, incident, status=400, form=form)
    try:
        silence = silences.silence_create(
            incident=incident,
            duration=form.cleaned_data["silence_duration"],
            comment=form.cleaned_data["comment"],
            actor=request.user,
        )
    except ApplicationError as exc:
        return _after_post(request, incident, status=exc.status_code, form=form, error=exc.message)
    if not request.htmx:
        messages.success(request, f"Silenced in Alertmanager until {silence.ends_at:%Y-%m-%d %H:%M} UTC.")
    return _after_post(request, incident)


def _get_silence(request: HttpRequest, pk: int) -> Silence:
    try:
        return selectors.silence_get_for_user(user=request.user, pk=pk)
    except Silence.DoesNotExist:
        raise Http404("No such silence.") from None


@require_POST
@login_required
def silence_expire(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    silence = _get_silence(request, pk)
    try:
        silences.silence_expire(silence=silence, actor=request.user)
    except ApplicationError as exc:
        return _after_post(request, silence.incident, status=exc.status_code, error=exc.message)
    return _after_post(request, silence.incident)


@require_POST
@login_required
def silence_refresh(request: HtmxHttpRequest, incident_pk: int) -> HttpResponse:
    """Ask Alertmanager for the state of this incident's active silences."""
    incident = _get_incident(request, incident_pk)
    for silence in selectors.silence_list_for_incident(user=request.user, incident=incident):
        if silences.silence_is_expired(silence):
            continue
        try:
            silences.silence_refresh(silence=silence, actor=request.user)
        except ApplicationError as exc:
            return _after_post(request, incident, status=exc.status_code, error=exc.message)
    return _after_post(request, incident)
