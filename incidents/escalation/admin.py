"""Admin for policies with their levels inline; a level's targets are checked on save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from opsportal.lib.exceptions import ApplicationError

from . import policies, snapshot
from .models import EscalationLevel, EscalationPolicy


class LevelAdminForm(forms.ModelForm[EscalationLevel]):
    class Meta:
        model = EscalationLevel
        fields = ["order", "delay_seconds", "targets"]

    def clean(self) -> dict[str, Any]:
        """The same checks as the API (shape, then that users and schedules exist), as form errors."""
        data = super().clean() or {}
        try:
            snapshot.parse_delay(data.get("delay_seconds"), "delay_seconds")
            for i, target in enumerate(snapshot.parse_targets(data.get("targets"), "targets")):
                policies.check_exists(target, f"targets[{i}].value")
        except ApplicationError as exc:
            field = "delay_seconds" if "delay_seconds" in exc.message else "targets"
            self.add_error(field, exc.message)
        return data


class LevelInline(admin.TabularInline[EscalationLevel, EscalationPolicy]):
    model = EscalationLevel
    form = LevelAdminForm
    extra = 0
    ordering = ["order"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin[EscalationPolicy]):
    list_display = ["name", "repeat", "escalate_on_sla_breach", "is_default"]
    inlines = [LevelInline]
