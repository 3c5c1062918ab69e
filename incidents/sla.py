"""The SLA breach sweep the scheduler runs every few seconds (docs/architecture.md sections 2, 3).

Deadlines are columns on the incident (set by the lifecycle from ``Severity.deadlines``), so a
restarted worker or scheduler loses nothing: the next tick finds every deadline that passed while
it was down and records each breach once, through ``lifecycle.incident_record_breach``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from opsportal.lib.claim import claim

from . import lifecycle
from .models import Incident

log = logging.getLogger(__name__)
BATCH = 500


def sla_record_breaches(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """Record every SLA deadline that has passed and is not yet recorded. Returns (incident id,
    "response"|"resolution") for the breaches this call recorded; concurrent calls never record
    the same breach twice (due rows are claimed, and the lifecycle re-checks under the lock)."""
    now = now or timezone.now()
    recorded: list[tuple[int, str]] = []
    for sla, (due_field, breached_field, statuses) in lifecycle.SLA_CLOCKS.items():
        with transaction.atomic():
            due = claim(
                Incident.objects.filter(
                    status__in=statuses, **{f"{due_field}__lte": now, f"{breached_field}__isnull": True}
                ).order_by(due_field)
            )[:BATCH]
            for pk in list(due.values_list("pk", flat=True)):
                if lifecycle.incident_record_breach(incident=pk, sla=sla, at=now):
                    recorded.append((pk, sla))
    if recorded:
        log.info("sla breaches recorded", extra={"breaches": recorded})
    return recorded
