"""Notification pages: the deliveries panel's own endpoints (refresh, retry now), the template
editor with a live preview, and routes. Anyone signed in reads; editing is for staff."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import Incident
from incidents.registry import registry
from incidents.selectors import incident_get_for_user
from opsportal.lib import fragments
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.htmx import HtmxHttpRequest
from opsportal.lib.views import apply_error, staff_required

from . import message_templates, outbox, routing, selectors
from .forms import RouteForm, TemplateForm
from .models import Delivery
from .panels import DELIVERIES_PANEL, DeliveriesView, deliveries_panel_context


def _incident(request: HttpRequest, pk: int) -> Incident:
    try:
        return incident_get_for_user(user=request.user, pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


@require_GET
@login_required
def incident_deliveries(request: HtmxHttpRequest, incident_pk: int) -> HttpResponse:
    """The deliveries panel alone: its pager, status filter and periodic refresh ask for it. The
    refresh sends ``since``, the version it shows: while no delivery was added or changed the answer
    is 204 with no body, after one aggregate query (the incident itself is loaded only to draw)."""
    try:
        view = DeliveriesView.from_query(request.GET)
    except ApplicationError:
        incident = _incident(request, incident_pk)
        response = render(request, DELIVERIES_PANEL, deliveries_panel_context(request, incident), status=400)
        response["X-Inline-Error"] = "true"  # swapped in place, like a form error (static/js/app.js)
        return response
    counts = selectors.delivery_counts_for_incident(user=request.user, incident=incident_pk)
    if request.GET.get("since") == counts.version:  # before loading the incident
        return HttpResponse(status=204)

    def draw(extra: dict[str, Any]) -> str:
        context = deliveries_panel_context(request, _incident(request, incident_pk), view=view, counts=counts)
        return render_to_string(DELIVERIES_PANEL, {**context, **extra}, request)

    # The same for everyone watching this version and view (but their forms' CSRF token).
    return HttpResponse(fragments.shared_html(("deliveries", incident_pk, counts.version, view.query()), request, draw))


@require_GET
@login_required
def delivery_preview(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One delivery's message as it was rendered for its channel: the panel fetches it when a row
    is opened (htmx), and without JS it is a page of its own."""
    try:
        delivery = selectors.delivery_get_for_user(user=request.user, pk=pk)
    except Delivery.DoesNotExist:
        raise Http404("No such delivery.") from None
    template = "notifications/delivery_preview.html"
    return render(request, f"{template}#message" if request.htmx else template, {
        "delivery": delivery, "incident": delivery.incident, "subject": delivery.payload.get("subject", ""),
        "text": delivery.payload.get("text", ""),
    })


@require_POST
@login_required
def delivery_retry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Retry a failed or dead delivery now (every responder may: it only re-sends)."""
    try:
        delivery = selectors.delivery_get_for_user(user=request.user, pk=pk)
    except Delivery.DoesNotExist:
        raise Http404("No such delivery.") from None
    status = 200
    try:
        outbox.delivery_retry_now(delivery=delivery)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        status = exc.status_code
    if request.htmx:
        assert delivery.incident is not None  # delivery_get_for_user returns an incident's deliveries only
        return render(request, DELIVERIES_PANEL, deliveries_panel_context(request, delivery.incident), status=status)
    query = request.GET.urlencode()
    return redirect(f"/incidents/{delivery.incident_id}/" + (f"?{query}" if query else "") + "#deliveries")


@require_GET
@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/template_list.html", {
        "nav": "notifications", "entries": message_templates.template_entries(),
        "channels": registry.message_channels,
    })


def _entry_or_404(channel: str, event: str) -> message_templates.TemplateEntry:
    try:
        return message_templates.template_entry(channel=channel, event=event)
    except ApplicationError as exc:
        raise Http404(exc.message) from None


@require_http_methods(["GET", "POST"])
@login_required
def template_edit(request: HttpRequest, channel: str, event: str) -> HttpResponse:
    entry = _entry_or_404(channel, event)
    if request.method == "POST" and not request.user.is_staff:
        raise PermissionDenied("Only staff can change message templates.")
    form = TemplateForm(request.POST if request.method == "POST" else None,
                        initial={"subject": entry.subject, "body": entry.body})
    preview: dict[str, str] | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                message_templates.template_update(channel=channel, event=event, subject=data["subject"],
                                                  body=data["body"], actor=request.user, incident=data["incident"])
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"{entry.channel_label} “{entry.event_label}” saved: new messages use it.")
                return redirect("notifications:template-edit", channel=channel, event=event)
        status = 400
    else:
        try:
            preview = message_templates.template_preview(channel=channel, event=event, subject=entry.subject,
                                                         body=entry.body)
        except ApplicationError:
            preview = None
    return render(request, "notifications/template_edit.html", {
        "nav": "notifications", "entry": entry, "form": form, "preview": preview, "preview_error": "",
    }, status=status)


@require_POST
@login_required
def template_preview(request: HtmxHttpRequest, channel: str, event: str) -> HttpResponse:
    """The live preview while typing: renders the unsaved text, saves nothing."""
    entry = _entry_or_404(channel, event)
    form = TemplateForm(request.POST)
    preview: dict[str, str] | None = None
    error = ""
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            preview = message_templates.template_preview(channel=channel, event=event, subject=data["subject"],
                                                         body=data["body"], incident=data["incident"])
        except ApplicationError as exc:
            error, status = exc.message, 422
    else:
        error, status = " ".join(str(e) for errs in form.errors.values() for e in errs), 422
    return render(request, "notifications/template_edit.html#preview",
                  {"entry": entry, "preview": preview, "preview_error": error}, status=status)


@require_POST
@staff_required("Only staff can change message templates.")
def template_reset(request: HttpRequest, channel: str, event: str) -> HttpResponse:
    entry = _entry_or_404(channel, event)
    message_templates.template_reset(channel=channel, event=event)
    messages.success(request, f"{entry.channel_label} “{entry.event_label}” is back to the built-in wording.")
    return redirect("notifications:template-edit", channel=channel, event=event)


def _channel_choices() -> list[tuple[str, str]]:
    return [(c.name, c.label) for c in registry.message_channels]


@require_http_methods(["GET", "POST"])
@login_required
def route_list(request: HttpRequest) -> HttpResponse:
    form = RouteForm(request.POST if request.method == "POST" else None, channels=_channel_choices())
    status = 200
    if request.method == "POST":
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can change routes.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                routing.route_create(channel=data["channel"], target=data["target"], service=data["service"],
                                     severities=list(data["severities"]))
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Route added: the next incidents that match use it.")
                return redirect("notifications:routes")
        status = 400
    rows = []
    for route in selectors.route_list_for_user(user=request.user):
        channel = registry.message_channel(route.channel)
        rows.append((route, channel.label if channel else route.channel,
                     channel.display_target(route.target) if channel else route.target))
    return render(request, "notifications/route_list.html", {
        "nav": "notifications", "routes": rows, "form": form,
    }, status=status)


@require_POST
@staff_required("Only staff can change routes.")
def route_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        routing.route_delete(route=pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Route removed.")
    return redirect("notifications:routes")
