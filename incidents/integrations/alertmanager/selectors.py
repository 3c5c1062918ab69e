"""Reads the Alertmanager pages show: integrations, deliveries, maintenance windows, alerts, silences.

Every signed-in user may read all of it (on-call tools are shared, as for incidents); changing
integrations and maintenance windows is for staff, which the views check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Max, Q, QuerySet, Subquery
from django.utils import timezone

from incidents.models import Incident, TimelineEvent
from opsportal.lib import fragments
from opsportal.lib.compiled import CompiledQuery

from .alert_search import Term, filter_alerts
from .models import Alert, AlertStatus, Integration, MaintenanceWindow, Silence, WebhookDelivery

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


@dataclass(frozen=True)
class AlertCounts:
    """An incident's alerts by state, and a version token that changes whenever any of them does.

    Every webhook post that touches an incident's alerts records a delivery naming it, and every
    change of an alert's state on an incident that is not its post's first (another group of a
    multi-group post, the inactivity sweep) records a timeline event: the newest of each, by id,
    make the version. Both are written under the incident's row lock, so their ids follow commit
    order. ``truncated_alerts`` is what the newest delivery says Alertmanager left out."""

    total: int
    firing: int
    last_seen_at: datetime | None
    delivery_id: int | None
    truncated_alerts: int = 0
    event_id: int | None = None
    # When each was written: with the ids, a version no reused id (SQLite) can repeat.
    stamps: tuple[datetime | None, datetime | None] = (None, None)

    @property
    def resolved(self) -> int:
        return self.total - self.firing

    @property
    def version(self) -> str:
        times = ".".join(str(int(t.timestamp() * 1_000_000)) if t else "0" for t in self.stamps)
        return f"{self.delivery_id or 0}.{self.event_id or 0}.{times}"


def alert_counts_for_incident(*, user: AnyUser, incident: Incident | int) -> AlertCounts:
    """The newest delivery and timeline event of the incident (one index entry each): all a poll
    needs to answer "nothing changed". The counts by state, an aggregate over every alert of the
    incident, run once per version in each process (``opsportal.lib.fragments``), not on every
    request: 20 tabs on an incident a storm keeps changing count its 20,000 alerts once per change.
    Takes an incident id too, so a poll can answer before loading the incident."""
    pk = incident if isinstance(incident, int) else incident.pk
    newest = _NEWEST_DELIVERY.objects(pk)
    delivery = (newest[0].pk, newest[0].truncated_alerts, newest[0].received_at) if newest else None
    newest_event = _NEWEST_EVENT.objects(pk)
    event = (newest_event[0].pk, newest_event[0].created_at) if newest_event else None

    def count() -> dict[str, Any]:
        return Alert.objects.filter(incident=pk).aggregate(
            total=Count("*"), firing=Count("status", filter=Q(status=AlertStatus.FIRING)),
            last_seen=Max("last_seen_at"))

    # The times too: SQLite can hand out a deleted incident's ids again.
    row = fragments.cached(("alert-counts", pk, delivery and (delivery[0], delivery[2]), event), count)
    return AlertCounts(total=row["total"], firing=row["firing"], last_seen_at=row["last_seen"],
                       delivery_id=delivery[0] if delivery else None,
                       truncated_alerts=delivery[1] if delivery else 0, event_id=event[0] if event else None,
                       stamps=(delivery[2] if delivery else None, event[1] if event else None))


@dataclass(frozen=True)
class AlertPage:
    alerts: list[Alert]
    matching: int  # alerts matching the state filter and search, over every page
    number: int  # 1-based, clamped to the last page
    pages: int


def alert_page_for_incident(
    *,
    user: AnyUser,
    incident: Incident,
    counts: AlertCounts,
    state: str = "",
    terms: tuple[Term, ...] = (),
    page: int = 1,
    per_page: int = 50,
) -> AlertPage:
    """One page of the incident's alerts, newest first (by start, then arrival). ``state`` is ""
    (all), "firing" or "resolved"; ``terms`` come from ``alert_search.parse_search``. A page past the
    end shows the last one (alerts may have resolved away since the link was drawn). Reads at most
    ``per_page`` rows, plus one COUNT when a search narrows the list."""
    qs = Alert.objects.filter(incident=incident)
    if state:
        qs = qs.filter(status=state)
    qs = filter_alerts(qs, terms)
    if terms:
        matching = qs.count()
    else:
        matching = {"": counts.total, AlertStatus.FIRING: counts.firing}.get(state, counts.resolved)
    pages = max(1, -(-matching // per_page))
    number = min(max(page, 1), pages)
    offset = (number - 1) * per_page
    # Served by alert_incident_started (incident, starts_at, id), scanned backwards.
    alerts = list(qs.order_by("-starts_at", "-pk")[offset:offset + per_page])
    return AlertPage(alerts=alerts, matching=matching, number=number, pages=pages)


def alert_integration_for_incident(*, user: AnyUser, incident: Incident) -> Integration | None:
    """The integration that delivered the incident's alerts (None for incidents without alerts).
    Any alert will do, as an incident's group key names its integration: unordered, the database
    reads one entry of the incident's index instead of walking the table's primary key."""
    found = _INCIDENT_INTEGRATION.objects(incident.pk)
    return found[0] if found else None


def silence_list_for_incident(*, user: AnyUser, incident: Incident) -> list[Silence]:
    return _INCIDENT_SILENCES.objects(incident.pk)


# Read by every poll of the alerts panel: compiled once per process.
_NEWEST_DELIVERY = CompiledQuery(WebhookDelivery, lambda pk: WebhookDelivery.objects.filter(incident_id=pk).order_by(
    "-id").only("id", "truncated_alerts", "received_at")[:1], marker=-1)
_NEWEST_EVENT = CompiledQuery(TimelineEvent, lambda pk: TimelineEvent.objects.filter(incident_id=pk).order_by(
    "-id").only("id", "created_at")[:1], marker=-1)
# Read by every render of the incident page's silences panel: compiled once per process
# (opsportal/lib/compiled.py; compiling them cost the panel about a millisecond).
_INCIDENT_INTEGRATION = CompiledQuery(Integration, lambda pk: Integration.objects.filter(
    pk__in=Subquery(Alert.objects.filter(incident_id=pk).order_by().values("integration_id")[:1])), marker=-1)
_INCIDENT_SILENCES = CompiledQuery(Silence, lambda pk: Silence.objects.filter(incident_id=pk).select_related(
    "created_by", "integration").order_by("-created_at"), marker=-1)


def silence_get_for_user(*, user: AnyUser, pk: int) -> Silence:
    return Silence.objects.select_related("incident", "integration").get(pk=pk)
