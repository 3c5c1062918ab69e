"""Alertmanager pages: integrations (with the receiver snippet), maintenance windows, and the
silences panel of the incident page.

Views parse input, call a selector or a service, and render. Anyone signed in reads; creating,
editing and rotating integrations and scheduling maintenance is for staff (403 otherwise);
silences are for every responder. A service's ApplicationError is shown next to the form with its
4xx status (htmx swaps 400/409/422, see base.html); without JavaScript, forms still work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import Incident
from incidents.selectors import incident_get_for_user
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.htmx import HtmxHttpRequest

from . import integration_settings, maintenance, selectors, silences, tokens
from .forms import IntegrationForm, MaintenanceWindowForm, SilenceForm
from .models import DEFAULT_SEVERITY_MAPPING, Integration, MaintenanceWindow, Silence

WEBHOOK_PATH = "/hooks/alertmanager"
TOKEN_SESSION_KEY = "alertmanager:new-token:{pk}"
SILENCE_PANEL = "alertmanager/_silences_panel.html"

View = Callable[..., HttpResponse]



def staff_required(view: View) -> View:
    """Signed in (else the login page) and staff (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can change integrations and maintenance windows.")
        return view(request, *args, **kwargs)

    return wrapper


def _apply_error(form: Any, exc: ApplicationError) -> None:
    """Put a service's error on the field it names, else on the form."""
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


# --- Integrations ------------------------------------------------------------------------------


def webhook_url() -> str:
    return settings.PUBLIC_URL + WEBHOOK_PATH


def receiver_name(integration: Integration) -> str:
    return "opsportal-" + (
        re.sub(r"[^a-z0-9]+", "-", integration.name.lower()).strip("-") or str(integration.pk)
    )


def receiver_snippet(integration: Integration, token: str | None) -> str:
    """The ``receivers:`` entry an operator pastes into alertmanager.yml (INTEGRATIONS.md 1.3)."""
    text = render_to_string(
        "alertmanager/receiver_snippet.yml",
        {
            "receiver": receiver_name(integration),
            "url": webhook_url(),
            "token": token,
        },
    )
    return text.strip() + "\n"


@require_GET
@login_required
def integration_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "alertmanager/integration_list.html",
        {
            "nav": "integrations",
            "integrations": selectors.integration_list_for_user(user=request.user),
            "webhook_url": webhook_url(),
        },
    )


def _integration_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = dict(data)
    fields.pop("name", None)
    fields["inactivity_timeout"] = fields.get("inactivity_timeout") or None
    return fields


@require_http_methods(["GET", "POST"])
@staff_required
def integration_create(request: HttpRequest) -> HttpResponse:
    form = IntegrationForm(
        request.POST if request.method == "POST" else None,
        initial={
            "severity_mapping": "\n".join(f"{k}={v}" for k, v in DEFAULT_SEVERITY_MAPPING.items()),
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                integration, token = tokens.integration_create(
                    name=form.cleaned_data["name"], **_integration_fields(form.cleaned_data)
                )
            except ApplicationError as exc:
                _apply_error(form, exc)
            else:
                # Shown once, by the next page load of the detail page, then gone from the session.
                request.session[TOKEN_SESSION_KEY.format(pk=integration.pk)] = token
                return redirect("alertmanager:integration-detail", pk=integration.pk)
        status = 400
    return render(
        request,
        "alertmanager/integration_form.html",
        {
            "nav": "integrations",
            "form": form,
            "integration": None,
        },
        status=status,
    )


def _get_integration(request: HttpRequest, pk: int) -> Integration:
    try:
        return selectors.integration_get_for_user(user=request.user, pk=pk)
    except Integration.DoesNotExist:
        raise Http404("No such integration.") from None


@require_GET
@login_required
def integration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    integration = _get_integration(request, pk)
    token = request.session.pop(TOKEN_SESSION_KEY.format(pk=pk), None)
    response = render(
        request,
        "alertmanager/integration_detail.html",
        {
            "nav": "integrations",
            "integration": integration,
            "token": token,
            "webhook_url": webhook_url(),
            "receiver": receiver_name(integration),
            "snippet": receiver_snippet(integration, token),
            "severity_mapping": integration.severity_mapping or DEFAULT_SEVERITY_MAPPING,
            "deliveries": selectors.delivery_list_for_integration(user=request.user, integration=integration),
            "edit_url": reverse("alertmanager:integration-edit", args=[pk]),
            "toggle_url": reverse("alertmanager:integration-toggle", args=[pk]),
        },
    )
    if token:
        response["Cache-Control"] = "no-store"  # the token must not outlive this page in any cache
    return response


@require_http_methods(["GET", "POST"])
@staff_required
def integration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    integration = _get_integration(request, pk)
    form = IntegrationForm(
        request.POST if request.method == "POST" else None, initial=IntegrationForm.initial_for(integration)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                integration_settings.integration_update(
                    integration=integration,
                    name=form.cleaned_data["name"],
                    **_integration_fields(form.cleaned_data),
                )
            except ApplicationError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, "Settings saved. The next webhook uses them.")
                return redirect("alertmanager:integration-detail", pk=pk)
        status = 400
    return render(
        request,
        "alertmanager/integration_form.html",
        {
            "nav": "integrations",
            "form": form,
            "integration": integration,
        },
        status=status,
    )


@require_POST
@staff_required
def integration_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Enable or disable webhook intake (``enabled=1`` / ``enabled=0``)."""
    integration = _get_integration(request, pk)
    wanted = request.POST.get("enabled")
    if wanted not in ("0", "1"):
        messages.error(request, "Say enabled=1 or enabled=0.")
        return redirect("alertmanager:integration-detail", pk=pk)
    integration = integration_settings.integration_set_enabled(integration=integration, enabled=wanted == "1")
    if integration.enabled:
        messages.success(request, f"“{integration.name}” is enabled: webhooks are accepted again.")
    else:
        messages.warning(
            request, f"“{integration.name}” is disabled: its webhooks now get 403 and are not stored."
        )
    return redirect("alertmanager:integration-detail", pk=pk)


@require_POST
@staff_required
def integration_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    integration = _get_integration(request, pk)
    token = tokens.integration_rotate_token(integration=integration)
    request.session[TOKEN_SESSION_KEY.format(pk=pk)] = token
    messages.warning(
        request, "New token created. The old token no longer works: update alertmanager.yml now."
    )
    return redirect("alertmanager:integration-detail", pk=pk)


# --- Maintenance windows -------------------------------------------------------------------------


def _maintenance_page(
    request: HttpRequest, form: MaintenanceWindowForm | None, status: int = 200
) -> HttpResponse:
    overview = selectors.maintenance_overview_for_user(user=request.user)
    return render(
        request,
        "alertmanager/maintenance_list.html",
        {
            "nav": "maintenance",
            "form": form,
            "overview": overview,
            "time_zone": settings.TIME_ZONE,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def maintenance_list(request: HttpRequest) -> HttpResponse:
    """Active, upcoming and past windows; staff schedule new ones with the form on the same page."""
    if request.method == "GET":
        return _maintenance_page(request, MaintenanceWindowForm() if request.user.is_staff else None)
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can schedule maintenance windows.")
    form = MaintenanceWindowForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            window = maintenance.maintenance_window_create(
                name=data["name"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                matchers=data["matchers"],
                integration=data["integration"],
                comment=data["comment"],
                actor=request.user,
            )
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, f"Maintenance window “{window.name}” scheduled.")
            return redirect("alertmanager:maintenance")
    return _maintenance_page(request, form, status=400)


def _get_window(request: HttpRequest, pk: int) -> MaintenanceWindow:
    try:
        return selectors.maintenance_get_for_user(user=request.user, pk=pk)
    except MaintenanceWindow.DoesNotExist:
        raise Http404("No such maintenance window.") from None


@require_POST
@staff_required
def maintenance_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End an active window now: from here on matching alerts open incidents again."""
    window = _get_window(request, pk)
    try:
        maintenance.maintenance_window_end(window=window, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Maintenance window “{window.name}” ended.")
    return redirect("alertmanager:maintenance")


@require_POST
@staff_required
def maintenance_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel an upcoming window, or remove a past one from the list."""
    window = _get_window(request, pk)
    try:
        maintenance.maintenance_window_delete(window=window, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Maintenance window “{window.name}” deleted.")
    return redirect("alertmanager:maintenance")


# --- Silences (a panel on the incident page) ----------------------------------------------------


def _get_incident(request: HttpRequest, pk: int) -> Incident:
    try:
        return incident_get_for_user(user=request.user, pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def alerts_panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    """What _incident_alerts.html needs (the incident page's include and its 15 s refresh)."""
    return {
        "incident": incident,
        "alerts": selectors.alert_list_for_incident(user=request.user, incident=incident),
        "latest_delivery": selectors.latest_delivery_for_incident(user=request.user, incident=incident),
        "request": request,
    }


def silence_panel_context(
    request: HttpRequest, incident: Incident, *, form: SilenceForm | None = None, error: str = ""
) -> dict[str, Any]:
    """What _silences_panel.html needs; also used by the incident page's include."""
    listed = selectors.silence_list_for_incident(user=request.user, incident=incident)
    integration = selectors.alert_integration_for_incident(user=request.user, incident=incident)
    return {
        "incident": incident,
        "silences": [{"silence": s, "expired": silences.silence_is_expired(s)} for s in listed],
        "form": form or SilenceForm(),
        "error": error,
        "alerts_exist": integration is not None,
        "integration": integration,
        "request": request,
    }


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
    """The alerts table alone; the incident page refreshes it so alerts joining the group appear."""
    incident = _get_incident(request, incident_pk)
    return render(request, "alertmanager/_incident_alerts.html", alerts_panel_context(request, incident))


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
            silences.silence_refresh(silence=silence)
        except ApplicationError as exc:
            return _after_post(request, incident, status=exc.status_code, error=exc.message)
    return _after_post(request, incident)
