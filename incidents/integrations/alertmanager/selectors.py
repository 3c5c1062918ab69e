"""Reads the Alertmanager pages show: integrations, deliveries, maintenance windows, alerts, silences.

Every signed-in user may read all of it (on-call tools are shared, as for incidents); changing
integrations and maintenance windows is for staff, which the views check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet
from django.utils import timezone

from incidents.models import Incident

from .models import Alert, Integration, MaintenanceWindow, Silence, WebhookDelivery

AnyUser = AbstractBaseUser | AnonymousUser


def integration_list_for_user(*, user: AnyUser) -> QuerySet[Integration]:
    return Integration.objects.select_related("default_service", "default_severity").order_by("name")


def integration_get_for_user(*, user: AnyUser, pk: int) -> Integration:
    """Raises Integration.DoesNotExist for unknown ids so callers answer 404."""
    return integration_list_for_user(user=user).get(pk=pk)


def delivery_list_for_integration(
    *, user: AnyUser, integration: Integration, limit: int = 25
) -> list[WebhookDelivery]:
    """The latest raw deliveries, without their bodies (those can be megabytes)."""
    return list(
        WebhookDelivery.objects.filter(integration=integration)
        .select_related("incident")
        .defer("body")
        .order_by("-received_at")[:limit]
    )


@dataclass(frozen=True)
class MaintenanceOverview:
    active: list[MaintenanceWindow]
    upcoming: list[MaintenanceWindow]
    past: list[MaintenanceWindow]


def maintenance_overview_for_user(
    *, user: AnyUser, now: datetime | None = None, past_limit: int = 20
) -> MaintenanceOverview:
    now = now or timezone.now()
    # held_back: alerts the window kept from opening incidents.
    qs = MaintenanceWindow.objects.select_related("integration", "created_by").annotate(
        held_back=Count("alerts")
    )
    return MaintenanceOverview(
        active=list(qs.filter(starts_at__lte=now, ends_at__gt=now).order_by("ends_at")),
        upcoming=list(qs.filter(starts_at__gt=now).order_by("starts_at")),
        past=list(qs.filter(ends_at__lte=now).order_by("-ends_at")[:past_limit]),
    )


def maintenance_for_dashboard(
    *, user: AnyUser, now: datetime | None = None, horizon: timedelta = timedelta(hours=24)
) -> tuple[list[MaintenanceWindow], list[MaintenanceWindow]]:
    """Windows active now, and those starting within ``horizon``: what the dashboard announces."""
    now = now or timezone.now()
    qs = MaintenanceWindow.objects.select_related("integration")
    active = list(qs.filter(starts_at__lte=now, ends_at__gt=now).order_by("ends_at"))
    upcoming = list(qs.filter(starts_at__gt=now, starts_at__lte=now + horizon).order_by("starts_at"))
    return active, upcoming


def maintenance_get_for_user(*, user: AnyUser, pk: int) -> MaintenanceWindow:
    return MaintenanceWindow.objects.select_related("integration").get(pk=pk)


def alert_list_for_incident(*, user: AnyUser, incident: Incident) -> list[Alert]:
    """Firing alerts first, then by start time."""
    return list(incident.alerts.select_related("integration").order_by("-status", "starts_at", "pk"))


def alert_integration_for_incident(*, user: AnyUser, incident: Incident) -> Integration | None:
    """The integration that delivered the incident's alerts (None for incidents without alerts)."""
    alert = incident.alerts.select_related("integration").order_by("pk").first()
    return alert.integration if alert else None


def latest_delivery_for_incident(*, user: AnyUser, incident: Incident) -> WebhookDelivery | None:
    return WebhookDelivery.objects.filter(incident=incident).defer("body").order_by("-received_at").first()


def silence_list_for_incident(*, user: AnyUser, incident: Incident) -> list[Silence]:
    return list(incident.silences.select_related("created_by", "integration").order_by("-created_at"))


def silence_get_for_user(*, user: AnyUser, pk: int) -> Silence:
    return Silence.objects.select_related("incident", "integration").get(pk=pk)
