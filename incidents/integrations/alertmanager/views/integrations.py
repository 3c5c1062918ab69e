"""Integration pages: the list, the receiver snippet with the token shown once, settings,
enable/disable and token rotation. Anyone signed in reads; changes are for staff (403 otherwise).

Views parse input, call a selector or a service, and render. A service's ApplicationError is shown
next to the form with its 4xx status (htmx swaps 400/409/422, see base.html).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.views import apply_error, staff_required

from .. import selectors, tokens
from ..forms import IntegrationForm
from ..integration import integration_create as create
from ..integration import integration_set_enabled, integration_update
from ..models import DEFAULT_SEVERITY_MAPPING, Integration
from ..receiver import receiver_name, receiver_snippet, webhook_url

TOKEN_SESSION_KEY = "alertmanager:new-token:{pk}"


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
@staff_required("Only staff can change integrations.")
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
                integration, token = create(
                    name=form.cleaned_data["name"], **_integration_fields(form.cleaned_data)
                )
            except ApplicationError as exc:
                apply_error(form, exc)
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
@staff_required("Only staff can change integrations.")
def integration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    integration = _get_integration(request, pk)
    form = IntegrationForm(
        request.POST if request.method == "POST" else None, initial=IntegrationForm.initial_for(integration)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                integration_update(
                    integration=integration,
                    name=form.cleaned_data["name"],
                    **_integration_fields(form.cleaned_data),
                )
            except ApplicationError as exc:
                apply_error(form, exc)
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
@staff_required("Only staff can change integrations.")
def integration_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Enable or disable webhook intake (``enabled=1`` / ``enabled=0``)."""
    integration = _get_integration(request, pk)
    wanted = request.POST.get("enabled")
    if wanted not in ("0", "1"):
        messages.error(request, "Say enabled=1 or enabled=0.")
        return redirect("alertmanager:integration-detail", pk=pk)
    integration = integration_set_enabled(integration=integration, enabled=wanted == "1")
    if integration.enabled:
        messages.success(request, f"“{integration.name}” is enabled: webhooks are accepted again.")
    else:
        messages.warning(
            request, f"“{integration.name}” is disabled: its webhooks now get 403 and are not stored."
        )
    return redirect("alertmanager:integration-detail", pk=pk)


@require_POST
@staff_required("Only staff can change integrations.")
def integration_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    integration = _get_integration(request, pk)
    token = tokens.integration_rotate_token(integration=integration)
    request.session[TOKEN_SESSION_KEY.format(pk=pk)] = token
    messages.warning(
        request, "New token created. The old token no longer works: update alertmanager.yml now."
    )
    return redirect("alertmanager:integration-detail", pk=pk)
