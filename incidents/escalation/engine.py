"""The escalation tick the scheduler runs every few seconds (docs/escalation.md, "The engine").

The next level's due time is a column (``Incident.next_escalation_at``), so nothing is lost when a
worker or the scheduler restarts: the next tick finds every level that fell due meanwhile. Due rows
are claimed with ``SKIP LOCKED`` (two schedulers, or a tick and an acknowledgement, never act on
the same incident at once) and each is escalated through ``lifecycle.incident_escalate``, which
checks again under the lock that it is still unacknowledged and due, and sets the next due time,
in the tick's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from opsportal.lib.claim import claim

from .. import lifecycle
from ..models import Incident, Status

log = logging.getLogger(__name__)
BATCH = 500


def escalation_due(now: datetime) -> list[int]:
    """Ids of unacknowledged incidents whose next level is due, soonest first (index
    ``incident_escalation_due``); used by the tick and shown by the benchmark's EXPLAIN."""
    return list(
        Incident.objects.filter(status=Status.TRIGGERED, next_escalation_at__lte=now)
        .order_by("next_escalation_at").values_list("pk", flat=True)[:BATCH]
    )


def escalation_tick(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """Page the next level of every incident whose level is due. Returns (incident id, level) for
    what this call paged. ``now`` moves the clock in tests; without it each escalation is recorded
    at the real time it happened."""
    checked_at = now or timezone.now()
    fired: list[tuple[int, int]] = []
    with transaction.atomic():
        due = claim(Incident.objects.filter(status=Status.TRIGGERED, next_escalation_at__lte=checked_at)
                    .order_by("next_escalation_at"))[:BATCH]
        for pk in list(due.values_list("pk", flat=True)):
            try:
                event = lifecycle.incident_escalate(incident=pk, reason="timeout", at=now)
            except Exception:  # noqa: BLE001 - one broken incident must not hold back the others
                log.exception("escalation of incident #%s failed; retrying next tick", pk)
                continue
            if event is not None:
                fired.append((pk, int(event.data["level"])))
    if fired:
        log.info("escalations paged", extra={"escalations": fired})
    return fired
