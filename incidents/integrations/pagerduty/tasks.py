"""Celery tasks of the PagerDuty integration: thin, they call the services."""

from __future__ import annotations

from celery import shared_task

from . import inbound


@shared_task(ignore_result=True)
def pagerduty_prune_webhook_events() -> int:
    """Forget webhook event ids older than PAGERDUTY_WEBHOOK_RETENTION (the beat runs it hourly)."""
    return inbound.webhook_events_prune()
