"""Raw webhook bodies are kept for debugging, bounded by age, number of rows and total bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Func, IntegerField, QuerySet
from django.utils import timezone

from .models import WebhookDelivery

BATCH = 1_000


class _BodyBytes(Func):
    """Size in bytes of a text column's UTF-8 text (what a body takes before compression)."""

    template = "octet_length(CAST(%(expressions)s AS text))"
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="length(CAST(%(expressions)s AS blob))", **extra_context)


def deliveries_prune(*, now: datetime | None = None) -> int:
    """Delete deliveries older than ALERTMANAGER_DELIVERY_RETENTION (default 7 days), then the
    oldest beyond ALERTMANAGER_DELIVERY_MAX_ROWS (default 100,000), then the oldest beyond
    ALERTMANAGER_DELIVERY_MAX_BYTES of bodies (default 512 MiB), in small batches so a big backlog
    never holds a long lock. Returns how many rows were deleted."""
    now = now or timezone.now()
    retention = settings.ALERTMANAGER_DELIVERY_RETENTION
    max_rows = settings.ALERTMANAGER_DELIVERY_MAX_ROWS
    deleted = _delete_batches(WebhookDelivery.objects.filter(received_at__lt=now - retention))
    newest = WebhookDelivery.objects.order_by("-received_at", "-pk").values_list("received_at", "pk")
    boundary = list(newest[max_rows:max_rows + 1]) if max_rows >= 0 else []
    if boundary:
        deleted += _delete_batches(_at_or_before(*boundary[0]))
    byte_boundary = _first_over_byte_budget(settings.ALERTMANAGER_DELIVERY_MAX_BYTES)
    if byte_boundary:
        deleted += _delete_batches(_at_or_before(*byte_boundary))
    return deleted


def _at_or_before(received_at: datetime, pk: int) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(received_at__lt=received_at) | WebhookDelivery.objects.filter(
        received_at=received_at, pk__lte=pk
    )


def _first_over_byte_budget(max_bytes: int) -> tuple[datetime, int] | None:
    """The newest delivery that no longer fits when sizes are added up from the newest; None when
    everything fits. Reads sizes a batch at a time and stops there, so the cost follows what is
    kept, not the whole table."""
    total = 0
    rows = WebhookDelivery.objects.order_by("-received_at", "-pk").annotate(size=_BodyBytes("body"))
    offset = 0
    while True:
        batch = list(rows.values_list("received_at", "pk", "size")[offset:offset + BATCH])
        for received_at, pk, size in batch:
            total += size or 0
            if total > max_bytes:
                return received_at, pk
        if len(batch) < BATCH:
            return None
        offset += BATCH


def _delete_batches(queryset: QuerySet[WebhookDelivery]) -> int:
    deleted = 0
    while True:
        ids = list(queryset.order_by("received_at", "pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        deleted += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
