"""Celery tasks for Alertmanager ingestion: thin wrappers that call the service functions.

Beat runs both (CELERY_BEAT_SCHEDULE in settings); each is idempotent, so a duplicate or late run
does no harm.
"""

from __future__ import annotations

from celery import shared_task

from .deliveries import deliveries_prune
from .inactivity import incidents_resolve_inactive


@shared_task(ignore_result=True)
def alertmanager_inactivity_sweep() -> int:
    """Resolve incidents whose alerts have not been seen for their integration's inactivity timeout."""
    return len(incidents_resolve_inactive())


@shared_task(ignore_result=True)
def alertmanager_prune_deliveries() -> int:
    """Drop raw webhook bodies past their retention."""
    return deliveries_prune()
