"""Celery tasks: thin, they call ``runbooks.runs``."""

from __future__ import annotations

from celery import shared_task

from . import runs


@shared_task(name="runbooks.tasks.runbook_step_task", acks_late=True, ignore_result=True)
def runbook_step_task(step_id: int, attempt: int) -> None:
    """One attempt of one automated step. Late acks: a worker killed mid-step leaves the message to
    be handed out again, and the claim in ``runs.step_execute`` makes that delivery a no-op, so
    the attempt never runs twice; the reaper records it as lost and retries or fails the step.
    Soft and hard time limits are set per step when it is sent (its timeout plus a margin)."""
    runs.step_execute(step_id, attempt)
