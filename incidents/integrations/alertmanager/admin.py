"""Django admin for the Alertmanager app. Tokens are shown once, on the page that answers the
creation or rotation, and never again: only their hash and first characters are stored."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.views import apply_error

from .integration import (
    EDITABLE,
    integration_create,
    integration_set_enabled,
    integration_settings_validate,
    integration_update,
)
from .maintenance import (
    maintenance_window_clean,
    maintenance_window_create,
    maintenance_window_delete,
    maintenance_window_update,
)
from .models import Alert, Integration, MaintenanceWindow, Silence, WebhookDelivery
from .receiver import webhook_url
from .tokens import integration_rotate_token

TOKEN_TEMPLATE = "admin/alertmanager/integration/token.html"


class IntegrationForm(forms.ModelForm[Integration]):

    class Meta:
        model = Integration
        fields = ("name", "enabled", "default_service", "grouping", "group_by_labels", "severity_label",
                  "severity_mapping", "default_severity", "title_template", "description_template",
                  "auto_resolve", "reopen_window", "inactivity_timeout", "alertmanager_url")

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # ModelForm's hook that builds self.instance; not in the stubs
        try:
            integration_settings_validate(self.instance)
        except ApplicationError as exc:
            apply_error(self, exc)


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin[Integration]):
    form = IntegrationForm
    list_display = ("name", "kind", "enabled", "token_prefix", "grouping", "auto_resolve", "default_service",
                    "created_at")
    list_filter = ("enabled", "grouping", "auto_resolve")
    search_fields = ("name",)
    readonly_fields = ("token_prefix", "token_rotated_at", "created_at")
    actions = ["rotate_tokens"]

    def save_model(self, request: HttpRequest, obj: Integration, form: Any, change: bool) -> None:
        """Through the same services as the integration pages: validation, token hashing."""
        fields = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        enabled = form.cleaned_data.get("enabled", True)
        if change:
            saved = integration_update(integration=obj, **fields)
        else:
            name = fields.pop("name")
            saved, token = integration_create(name=name, **fields)
            request._alertmanager_tokens = [(saved, token)]  # type: ignore[attr-defined]  # read by response_add
        if saved.enabled != enabled:
            saved = integration_set_enabled(integration=saved, enabled=enabled)
        _copy_row(saved, obj)

    def response_add(self, request: HttpRequest, obj: Integration, post_url_continue: str | None = None) -> HttpResponse:
        tokens = getattr(request, "_alertmanager_tokens", None)
        if tokens:
            return self._token_page(request, tokens, "created")
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Rotate the token of the selected integrations (old tokens stop working)")
    def rotate_tokens(self, request: HttpRequest, queryset: QuerySet[Integration]) -> HttpResponse:
        tokens = [(integration, integration_rotate_token(integration=integration)) for integration in queryset]
        return self._token_page(request, tokens, "rotated")

    def _token_page(self, request: HttpRequest, tokens: list[tuple[Integration, str]], verb: str) -> HttpResponse:
        response = TemplateResponse(request, TOKEN_TEMPLATE, {
            **self.admin_site.each_context(request),
            "title": f"Token {verb}",
            "opts": self.model._meta,
            "tokens": tokens,
            "verb": verb,
            "receiver_url": webhook_url(),
        })
        response["Cache-Control"] = "no-store"  # the page holds a secret
        return response


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    list_display = ("fingerprint", "alertname", "status", "incident", "integration", "maintenance_window",
                    "last_seen_at", "times_received")
    list_filter = ("status", "integration")
    search_fields = ("fingerprint",)
    list_select_related = ("incident", "integration", "maintenance_window")
    raw_id_fields = ("incident", "maintenance_window")

    @admin.display(description="alertname")
    def alertname(self, obj: Alert) -> str:
        return str(obj.labels.get("alertname", ""))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # alerts come from Alertmanager

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = ("received_at", "integration", "status", "alert_count", "truncated_alerts", "incident")
    list_filter = ("integration", "status")
    list_select_related = ("integration", "incident")
    date_hierarchy = "received_at"
    fields = ("received_at", "integration", "incident", "group_key", "status", "alert_count", "truncated_alerts",
              "pretty_body")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        queryset = super().get_queryset(request)
        # The list never shows bodies (they can be megabytes); the detail page reads it.
        return queryset if request.resolver_match and "object_id" in request.resolver_match.kwargs else queryset.defer("body")

    @admin.display(description="body")
    def pretty_body(self, obj: WebhookDelivery) -> str:
        """The body indented for reading; as stored if it is not JSON (it always is when stored
        by the webhook, which refuses anything else)."""
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", text[:200_000])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MaintenanceWindowForm(forms.ModelForm[MaintenanceWindow]):
    class Meta:
        model = MaintenanceWindow
        fields = ("name", "integration", "starts_at", "ends_at", "matchers", "comment")

    def clean(self) -> dict[str, Any]:
        """The service's own rules, shown on the form instead of failing at save."""
        data = super().clean() or {}
        if not self.errors:
            try:
                maintenance_window_clean(
                    name=data["name"], starts_at=data["starts_at"], ends_at=data["ends_at"],
                    matchers=data["matchers"], integration=data.get("integration"), comment=data.get("comment", ""),
                )
            except ApplicationError as exc:
                apply_error(self, exc)
        return data


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin[MaintenanceWindow]):
    form = MaintenanceWindowForm
    list_display = ("name", "integration", "starts_at", "ends_at", "is_active", "created_by")
    list_filter = ("integration",)
    search_fields = ("name", "comment")
    list_select_related = ("integration", "created_by")

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: MaintenanceWindow) -> bool:
        return obj.starts_at <= timezone.now() < obj.ends_at

    def save_model(self, request: HttpRequest, obj: MaintenanceWindow, form: Any, change: bool) -> None:
        """Through the same services as the maintenance page."""
        fields = {name: form.cleaned_data[name] for name in MaintenanceWindowForm.Meta.fields}
        if change:
            saved = maintenance_window_update(window=obj.pk, actor=request.user, **fields)
        else:
            saved = maintenance_window_create(actor=request.user, **fields)
        _copy_row(saved, obj)

    def delete_model(self, request: HttpRequest, obj: MaintenanceWindow) -> None:
        maintenance_window_delete(window=obj, actor=request.user)


def _copy_row(saved: Model, obj: Model) -> None:
    """The admin goes on with its own instance (log entry, redirect): make it the saved row."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin[Silence]):
    list_display = ("silence_id", "incident", "integration", "state", "starts_at", "ends_at", "created_by")
    list_filter = ("state", "integration")
    list_select_related = ("incident", "integration", "created_by")
    search_fields = ("silence_id", "comment")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # silences are created in Alertmanager from the incident page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
