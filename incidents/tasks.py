"""Celery tasks: thin wrappers that call service functions."""

from __future__ import annotations

from celery import shared_task

from opsportal.lib import heartbeat

from .sla import sla_record_breaches


@shared_task(ignore_result=True)
def sla_tick() -> int:
    """Beat runs this every SLA_TICK_SECONDS; it records due SLA breaches and the worker heartbeat."""
    heartbeat.beat("worker")
    return len(sla_record_breaches())
