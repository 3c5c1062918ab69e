"""Raw webhook bodies are kept for debugging, for a bounded time and number of rows."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import WebhookDelivery

BATCH = 1_000


def deliveries_prune(*, now: datetime | None = None) -> int:
    """Delete deliveries older than ALERTMANAGER_DELIVERY_RETENTION (default 7 days), then the
    oldest beyond ALERTMANAGER_DELIVERY_MAX_ROWS (default 100,000), in small batches so a big
    backlog never holds a long lock. Returns how many rows were deleted."""
    now = now or timezone.now()
    retention = settings.ALERTMANAGER_DELIVERY_RETENTION
    max_rows = settings.ALERTMANAGER_DELIVERY_MAX_ROWS
    deleted = _delete_batches(WebhookDelivery.objects.filter(received_at__lt=now - retention))
    newest = WebhookDelivery.objects.order_by("-received_at", "-pk").values_list("received_at", "pk")
    boundary = list(newest[max_rows:max_rows + 1]) if max_rows >= 0 else []
    if boundary:
        received_at, pk = boundary[0]
        older = WebhookDelivery.objects.filter(received_at__lt=received_at) | WebhookDelivery.objects.filter(
            received_at=received_at, pk__lte=pk
        )
        deleted += _delete_batches(older)
    return deleted


def _delete_batches(queryset: QuerySet[WebhookDelivery]) -> int:
    deleted = 0
    while True:
        ids = list(queryset.order_by("received_at", "pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        deleted += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
