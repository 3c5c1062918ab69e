"""SLA deadlines and the breach sweep the scheduler runs every few seconds (DESIGN.md sections 2, 3).

Deadlines are columns on the incident, so a restarted worker or scheduler loses nothing: the
next tick finds every deadline that passed while it was down and records each breach once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opsportal.lib.metrics import SLA_BREACHES

from .models import OPEN_STATUSES, EventKind, Incident, Severity, Source, Status, TimelineEvent

log = logging.getLogger(__name__)
BATCH = 500


def deadlines(severity: Severity, opened_at: datetime) -> tuple[datetime, datetime]:
    """(response_due_at, resolve_due_at) for an incident of ``severity`` opened at ``opened_at``."""
    return opened_at + severity.response_target, opened_at + severity.resolution_target


def _claim(queryset):  # type: ignore[no-untyped-def]
    """Lock due rows; on PostgreSQL a row another tick holds is skipped, not waited for."""
    if settings.USING_POSTGRES:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_for_update()


def sla_record_breaches(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """Record every SLA deadline that has passed and is not yet recorded. Returns (incident id,
    "response"|"resolution") for the breaches this call recorded; concurrent calls never record
    the same breach twice."""
    now = now or timezone.now()
    recorded: list[tuple[int, str]] = []
    for kind, due_field, breached_field, statuses in (
        ("response", "response_due_at", "response_breached_at", (Status.TRIGGERED,)),
        ("resolution", "resolve_due_at", "resolve_breached_at", OPEN_STATUSES),
    ):
        with transaction.atomic():
            due = _claim(
                Incident.objects.filter(
                    status__in=statuses, **{f"{due_field}__lte": now, f"{breached_field}__isnull": True}
                ).order_by(due_field)[:BATCH]
            )
            incidents = list(due.select_related("severity"))
            for incident in incidents:
                setattr(incident, breached_field, now)
                incident.save(update_fields=[breached_field, "updated_at"])
                late = now - getattr(incident, due_field)
                TimelineEvent.objects.create(
                    incident=incident,
                    kind=EventKind.SLA_BREACHED,
                    source=Source.SCHEDULER,
                    message=(
                        f"{kind.capitalize()} SLA breached: {incident.severity.name} target "
                        f"{_human(incident.severity.response_target if kind == 'response' else incident.severity.resolution_target)} "
                        f"passed {_human(late)} ago."
                    ),
                    data={"sla": kind, "due_at": getattr(incident, due_field).isoformat()},
                    created_at=now,
                )
                recorded.append((incident.pk, kind))
                sev = incident.severity.name
                transaction.on_commit(lambda sev=sev, kind=kind: SLA_BREACHES.labels(sev, kind).inc())
    if recorded:
        log.info("sla breaches recorded", extra={"breaches": recorded})
    return recorded


def _human(delta) -> str:  # type: ignore[no-untyped-def]
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        h, m = divmod(seconds // 60, 60)
        return f"{h}h{m:02d}m" if m else f"{h}h"
    d, h = divmod(seconds // 3600, 24)
    return f"{d}d{h}h" if h else f"{d}d"
