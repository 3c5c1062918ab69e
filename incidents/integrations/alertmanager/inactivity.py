"""Inactivity timeout: resolve incidents whose alerts have gone quiet (senders that never resolve).

A database timer (docs/architecture.md section 3): the due time is the newest ``last_seen_at`` of an
incident's alerts plus its integration's ``inactivity_timeout``, read by a query on every beat
tick, so a restarted worker or scheduler still resolves every overdue incident, once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from incidents import lifecycle
from incidents.models import OPEN_STATUSES, Incident, Source
from opsportal.lib.claim import claim
from opsportal.lib.durations import format_duration

from . import metrics
from .models import Alert, AlertStatus, Integration

log = logging.getLogger(__name__)
BATCH = 200


def incidents_resolve_inactive(*, now: datetime | None = None) -> list[int]:
    """Resolve every open incident of an enabled integration with an inactivity timeout whose
    alerts were all last seen longer ago than that timeout; their firing alerts are marked
    resolved. Returns the incident ids resolved by this call. Concurrent sweeps (and webhooks
    holding an incident) skip each other's rows, so an incident is resolved once."""
    now = now or timezone.now()
    resolved: list[int] = []
    for integration in Integration.objects.filter(enabled=True, inactivity_timeout__isnull=False):
        if integration.inactivity_timeout is None:  # filtered out above; for the type checker
            continue
        cutoff = now - integration.inactivity_timeout
        due = list(
            Incident.objects.filter(status__in=OPEN_STATUSES, alerts__integration=integration)
            .annotate(last_seen=Max("alerts__last_seen_at"))
            .filter(last_seen__lt=cutoff)
            .order_by("last_seen")
            .values_list("pk", flat=True)[:BATCH]
        )
        for pk in due:
            if _resolve_if_still_quiet(pk, integration, cutoff, now):
                resolved.append(pk)
    if resolved:
        log.info("alertmanager inactivity: incidents resolved", extra={"incidents": resolved})
    return resolved


def _resolve_if_still_quiet(pk: int, integration: Integration, cutoff: datetime, now: datetime) -> bool:
    with transaction.atomic():
        incident = claim(Incident.objects.filter(pk=pk, status__in=OPEN_STATUSES)).first()
        if incident is None:  # resolved meanwhile, or a webhook holds it right now
            return False
        last_seen = Alert.objects.filter(incident=incident).aggregate(last=Max("last_seen_at"))["last"]
        if last_seen is None or last_seen >= cutoff:  # an alert arrived since the query above
            return False
        Alert.objects.filter(incident=incident, status=AlertStatus.FIRING).update(
            status=AlertStatus.RESOLVED, ends_at=now
        )
        lifecycle.incident_resolve(
            incident=incident,
            actor=None,
            source=Source.SCHEDULER,
            note=(
                f"No alert seen for {format_duration(integration.inactivity_timeout)} "
                f"(inactivity timeout of {integration.name}): resolved automatically."
            ),
        )
        name = integration.name
        transaction.on_commit(lambda: metrics.INCIDENTS.labels(name, "inactivity_resolved").inc())
    return True


