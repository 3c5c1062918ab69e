"""Admin for reference data. Incidents are view-only here: their state changes only through
incidents.lifecycle (the incident pages and the API), never by editing a row."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ApiToken, Incident, Service, Severity, TimelineEvent


@admin.register(Severity)
class SeverityAdmin(admin.ModelAdmin[Severity]):
    list_display = ("name", "label", "rank", "colour", "response_target", "resolution_target")
    list_editable = ("label", "colour", "response_target", "resolution_target")
    ordering = ("rank",)

    def has_delete_permission(self, request: HttpRequest, obj: Severity | None = None) -> bool:
        # Incidents protect their severity; say so up front rather than failing on delete.
        return obj is None or not obj.incidents.exists()


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ("name", "owner_team", "description")
    search_fields = ("name", "owner_team")


class TimelineInline(admin.TabularInline[TimelineEvent, Incident]):
    model = TimelineEvent
    fields = ("created_at", "kind", "actor", "source", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin[Incident]):
    list_display = ("id", "title", "severity", "status", "service", "commander", "opened_at", "source")
    list_filter = ("status", "severity", "source", "service")
    search_fields = ("title", "key")
    date_hierarchy = "opened_at"
    inlines = [TimelineInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Incident | None = None) -> list[str]:
        return [f.name for f in Incident._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Lists who has a token and when it was last used; the token itself is never stored, so it
    cannot be shown. Deleting a row revokes the token; ``manage.py create_api_token`` makes one."""

    list_display = ("prefix", "user", "created_at", "last_used_at")
    search_fields = ("user__username", "prefix")
    fields = ("user", "prefix", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False
