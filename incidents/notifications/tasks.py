"""Celery tasks of the outbox: thin, they call ``outbox``."""

from __future__ import annotations

from celery import shared_task

from . import outbox


@shared_task(ignore_result=True, acks_late=True)
def conversation_flush_task(conversation_id: int, *more: int) -> int:
    """Send the due messages of one conversation, or of the few one commit made due together (one
    broker message per commit, not one per conversation); enqueued on commit, and by the sweep."""
    return sum(outbox.conversation_flush(pk) for pk in (conversation_id, *more))


@shared_task(ignore_result=True)
def outbox_sweep_task() -> int:
    """The beat's safety net: every due delivery whose flush was lost or delayed is flushed."""
    return len(outbox.outbox_sweep())
