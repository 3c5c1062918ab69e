"""Reads a user can see. Views and the API list and fetch incidents only through these."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, DateTimeField, F, IntegerField, QuerySet, Value, When

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


def severity_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Severity]:
    """Every severity, most urgent first (reference data: everyone signed in sees all of it)."""
    return Severity.objects.order_by("rank")


def service_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Service]:
    """Every service by name (reference data: everyone signed in sees all of it)."""
    return Service.objects.order_by("name")
