"""Admin: runbooks (steps and triggers inline) and runs (read-only: runs change through runs.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Runbook, RunbookRun, Step, StepRun, Trigger


class StepInline(admin.TabularInline[Step, Runbook]):
    model = Step
    extra = 0
    fields = ["order", "title", "action", "params", "timeout_seconds", "retries", "on_failure", "needs_approval"]


class TriggerInline(admin.TabularInline[Trigger, Runbook]):
    model = Trigger
    extra = 0


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin[Runbook]):
    """Edits here skip the API's validation of parameters, so they are shown read-only; edit
    runbooks in the editor (/runbooks/) or import YAML."""

    list_display = ["name", "version", "updated_at"]
    search_fields = ["name"]
    readonly_fields = ["version", "created_by", "created_at", "updated_at"]
    inlines = [StepInline, TriggerInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class StepRunInline(admin.TabularInline[StepRun, RunbookRun]):
    model = StepRun
    extra = 0
    fields = ["index", "title", "action", "status", "attempts", "started_at", "finished_at", "approved_by", "output"]
    readonly_fields = ["index", "title", "action", "status", "attempts", "started_at", "finished_at", "approved_by",
                       "output"]
    can_delete = False


@admin.register(RunbookRun)
class RunbookRunAdmin(admin.ModelAdmin[RunbookRun]):
    list_display = ["runbook_name", "runbook_version", "incident", "status", "started_at", "finished_at"]
    list_filter = ["status"]
    inlines = [StepRunInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in RunbookRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
