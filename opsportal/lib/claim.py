"""Claiming due rows for a sweep: the one way every database timer is picked up (docs/architecture.md
section 3).

On PostgreSQL a row that another sweep, a webhook or a person's action holds is skipped rather than
waited for, so two schedulers (or a slow request) never make a tick wait or act twice. SQLite has one
writer at a time, so a plain lock is the same guarantee there.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def claim(queryset: QuerySet[M]) -> QuerySet[M]:
    """``queryset`` locked for update, skipping rows locked elsewhere where the database can.
    Call inside ``transaction.atomic()``; only the queryset's own table is locked."""
    if connections[queryset.db].vendor == "postgresql":
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_for_update()
