"""Admin for the outbox: deliveries are read-only (with "retry now"), templates and routes change
through the same services as the pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from incidents.registry import registry
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.views import apply_error

from . import message_templates, outbox, routing
from .models import Conversation, Delivery, MessageTemplate, Route
from .rendering import template_check


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = ("created_at", "incident", "kind", "channel", "status", "attempts", "last_error")
    list_filter = ("status", "channel", "kind")
    list_select_related = ("incident",)
    search_fields = ("incident__title", "last_error")
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    exclude = ("target",)  # may be a secret (a PagerDuty routing key); pages show a prefix

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Retry the selected failed or dead deliveries now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        done = 0
        for delivery in queryset.filter(status__in=[Delivery.Status.FAILED, Delivery.Status.DEAD]):
            outbox.delivery_retry_now(delivery=delivery)
            done += 1
        messages.info(request, f"{done} deliver{'y' if done == 1 else 'ies'} queued again.")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    list_display = ("incident", "channel", "external_ref", "next_send_at", "created_at")
    list_filter = ("channel",)
    list_select_related = ("incident",)
    exclude = ("target",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageTemplateForm(forms.ModelForm[MessageTemplate]):
    class Meta:
        model = MessageTemplate
        fields = ("channel", "event", "subject", "body")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            try:
                message_templates.template_entry(channel=data["channel"], event=data["event"])
                template_check(data.get("subject", ""), data["body"], kind=data["event"])
            except ApplicationError as exc:
                apply_error(self, exc)
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin[MessageTemplate]):
    form = MessageTemplateForm
    list_display = ("channel", "event", "updated_at", "updated_by")
    list_filter = ("channel",)

    def save_model(self, request: HttpRequest, obj: MessageTemplate, form: Any, change: bool) -> None:
        entry = message_templates.template_update(channel=obj.channel, event=obj.event, subject=obj.subject,
                                                  body=obj.body, actor=request.user)
        saved = MessageTemplate.objects.get(channel=entry.channel, event=entry.event)
        obj.pk, obj.updated_at, obj.updated_by_id = saved.pk, saved.updated_at, saved.updated_by_id
        obj._state.adding = False


class RouteForm(forms.ModelForm[Route]):
    class Meta:
        model = Route
        fields = ("channel", "target", "service", "severities", "enabled")

    def clean_channel(self) -> str:
        channel: str = self.cleaned_data["channel"]
        if registry.message_channel(channel) is None:
            known = ", ".join(c.name for c in registry.message_channels) or "none installed"
            raise forms.ValidationError(f"Unknown channel “{channel}” (channels: {known}).")
        return channel


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin[Route]):
    form = RouteForm
    list_display = ("channel", "service", "enabled", "created_at")
    list_filter = ("channel", "enabled")
    list_select_related = ("service",)

    def save_model(self, request: HttpRequest, obj: Route, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = routing.route_create(channel=obj.channel, target=obj.target, service=obj.service)
        obj.pk, obj.created_at = saved.pk, saved.created_at
        obj._state.adding = False  # the admin then saves the severities (save_related)
