"""Admin for on-call. Schedules, layers and overrides are saved through the services' checks
(time zone, rotation length, participants, override window), so the admin cannot store what the
API would refuse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User

from opsportal.lib.exceptions import ApplicationError

from . import services
from .models import CalendarFeed, ContactMethod, Layer, LayerParticipant, Override, Schedule


def _checked(form: forms.ModelForm[Any], check: Any) -> None:
    """Run a service check; its error goes on the field it names."""
    try:
        check()
    except ApplicationError as exc:
        field = exc.extra.get("field")
        form.add_error(field if field in form.fields else None, exc.message)


class ScheduleForm(forms.ModelForm[Schedule]):
    class Meta:
        model = Schedule
        fields = ["name", "time_zone", "description"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "time_zone" in data:
            _checked(self, lambda: services.zone_for(data["time_zone"]))
        return data


class LayerForm(forms.ModelForm[Layer]):
    class Meta:
        model = Layer
        fields = ["schedule", "name", "order", "rotation", "length_seconds", "handoff_date", "handoff_time"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "rotation" in data:
            custom = data.get("length_seconds") if data["rotation"] == Layer.Rotation.CUSTOM else None
            try:
                data["length_seconds"] = services.length_for(data["rotation"], custom)
            except ApplicationError as exc:
                self.add_error("length_seconds" if "length" in exc.extra.get("field", "") else "rotation", exc.message)
        return data


class ParticipantInline(admin.TabularInline[LayerParticipant, Layer]):
    model = LayerParticipant
    extra = 1
    fields = ["position", "user"]


class LayerInline(admin.TabularInline[Layer, Schedule]):
    model = Layer
    form = LayerForm
    extra = 0
    fields = ["name", "order", "rotation", "length_seconds", "handoff_date", "handoff_time"]
    show_change_link = True


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin[Schedule]):
    form = ScheduleForm
    list_display = ("name", "time_zone", "updated_at")
    search_fields = ("name",)
    inlines = [LayerInline]


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin[Layer]):
    form = LayerForm
    list_display = ("__str__", "schedule", "order", "rotation", "length_seconds")
    list_select_related = ("schedule",)
    inlines = [ParticipantInline]


class OverrideForm(forms.ModelForm[Override]):
    class Meta:
        model = Override
        fields = ["schedule", "user", "starts_at", "ends_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user, starts, ends = data.get("user"), data.get("starts_at"), data.get("ends_at")
        if isinstance(user, User) and starts and ends:
            if not user.is_active:
                self.add_error("user", f'User "{user.username}" is deactivated.')
            elif ends <= starts:
                self.add_error("ends_at", "ends_at must be after starts_at.")
            elif ends - starts > services.MAX_OVERRIDE:
                self.add_error("ends_at", "An override lasts at most 366 days.")
        return data


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin[Override]):
    form = OverrideForm
    list_display = ("schedule", "user", "starts_at", "ends_at", "created_by")
    list_select_related = ("schedule", "user", "created_by")
    list_filter = ("schedule",)

    def save_model(self, request: Any, obj: Override, form: Any, change: bool) -> None:
        if not change and obj.created_by_id is None and isinstance(request.user, User):
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ContactMethodForm(forms.ModelForm[ContactMethod]):
    class Meta:
        model = ContactMethod
        fields = ["user", "kind", "value", "verified"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "kind" in data and "value" in data:
            try:
                data["value"] = services.contact_value(data["kind"], data["value"])
            except ApplicationError as exc:
                self.add_error(exc.extra.get("field", "value"), exc.message)
        return data


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin[ContactMethod]):
    form = ContactMethodForm
    list_display = ("user", "kind", "verified", "created_at")
    list_filter = ("kind", "verified")
    list_select_related = ("user",)
    search_fields = ("user__username",)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin[CalendarFeed]):
    """Read-only: a feed's token is a secret URL; users reset their own on their page."""

    list_display = ("user", "created_at")
    exclude = ("token",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
