"""Reads a user can see. Views and the API list and fetch incidents only through these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, Count, DateTimeField, F, IntegerField, Max, Q, QuerySet, Value, When

from opsportal.lib.exceptions import ApplicationError

from .models import OPEN_STATUSES, Incident, Service, Severity, Status, TimelineEvent


def incident_list_for_user(
    *,
    user: AbstractBaseUser | AnonymousUser,
    statuses: list[str] | None = None,
    severities: list[str] | None = None,
) -> QuerySet[Incident]:
    """Incidents sorted by urgency: open before closed, then most severe, then nearest SLA deadline.

    ``statuses`` and ``severities`` are names (``triggered``, ``P1``); unknown names are an error,
    not an empty list, so a typo in a filter is visible.
    """
    qs = Incident.objects.select_related("severity", "service", "commander")
    if statuses:
        unknown = sorted(set(statuses) - set(Status.values) - {"open"})
        if unknown:
            raise ApplicationError(f"Unknown status: {', '.join(unknown)}.", code="invalid",
                                   extra={"field": "status", "allowed": ["open", *Status.values]})
        wanted = set(statuses)
        if "open" in wanted:
            wanted.discard("open")
            wanted.update(OPEN_STATUSES)
        qs = qs.filter(status__in=wanted)
    if severities:
        known = set(Severity.objects.values_list("name", flat=True))
        unknown = sorted(set(severities) - known)
        if unknown:
            raise ApplicationError(f"Unknown severity: {', '.join(unknown)}.", code="invalid",
                                   extra={"field": "severity", "allowed": sorted(known)})
        qs = qs.filter(severity__name__in=severities)
    return qs.annotate(
        open_rank=Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1),
                       output_field=IntegerField()),
        deadline=Case(
            When(status=Status.TRIGGERED, then=F("response_due_at")),
            When(status__in=OPEN_STATUSES, then=F("resolve_due_at")),
            default=None,
            output_field=DateTimeField(),
        ),
    ).order_by("open_rank", "severity__rank", F("deadline").asc(nulls_last=True), "-opened_at")


def incident_get_for_user(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> Incident:
    """Every signed-in user sees every incident (on-call tools are shared by design); raises
    Incident.DoesNotExist for unknown ids so callers answer 404."""
    return Incident.objects.select_related("severity", "service", "commander", "created_by").get(pk=pk)


def incident_timeline(*, incident: Incident) -> QuerySet[TimelineEvent]:
    return incident.events.select_related("actor").order_by("created_at", "id")


@dataclass(frozen=True)
class TimelineWindow:
    """At most ``limit`` events of an incident's timeline, oldest first, ending at the newest one
    (or just before the event ``before``); ``older`` is the cursor for the events before them."""

    events: list[TimelineEvent]
    total: int
    version: str
    older: int | None
    before: int | None


def incident_timeline_version(*, incident: Incident | int) -> tuple[int, str]:
    """The number of events, and a token that changes whenever an event is added (events are never
    edited): the timeline poll compares it. An index-only scan of timeline_incident_created. Takes
    an incident id too, so the poll can answer before loading the incident."""
    row = TimelineEvent.objects.filter(incident=incident).aggregate(total=Count("created_at"),
                                                                    latest=Max("created_at"))
    latest: datetime | None = row["latest"]
    stamp = int(latest.timestamp() * 1_000_000) if latest else 0
    return row["total"], f"{row['total']}.{stamp}"


def incident_timeline_window(
    *, incident: Incident, before: int | None = None, limit: int = 50, version: tuple[int, str] | None = None
) -> TimelineWindow:
    """The page's timeline: bounded however long the incident runs. ``before`` is an event id of
    this incident (the "show older" cursor); an id that is not raises ApplicationError (400).
    ``version``: ``incident_timeline_version``'s answer when the caller already has it."""
    qs = incident.events.select_related("actor")
    if before is not None:
        anchor = TimelineEvent.objects.filter(incident=incident, pk=before).values_list("created_at", flat=True).first()
        if anchor is None:
            raise ApplicationError(f"Event {before} is not on incident #{incident.pk}'s timeline.",
                                   extra={"field": "timeline_before"})
        qs = qs.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=before))
    # Served by timeline_incident_created (incident, created_at), scanned backwards.
    newest_first = list(qs.order_by("-created_at", "-id")[: limit + 1])
    shown = newest_first[:limit]
    total, token = version or incident_timeline_version(incident=incident)
    return TimelineWindow(
        events=shown[::-1],
        total=total,
        version=token,
        older=shown[-1].pk if len(newest_first) > limit else None,
        before=before,
    )


def severity_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Severity]:
    """Every severity, most urgent first (reference data: everyone signed in sees all of it)."""
    return Severity.objects.order_by("rank")


def service_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Service]:
    """Every service by name (reference data: everyone signed in sees all of it)."""
    return Service.objects.order_by("name")
