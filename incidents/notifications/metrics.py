"""Prometheus figures for the outbox: deliveries by channel and outcome, send latency, backlog."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .models import Delivery

DELIVERIES = Counter(
    "opsportal_notification_deliveries_total", "Delivery attempts by channel and resulting status",
    ["channel", "status"],
)
SEND_SECONDS = Histogram(
    "opsportal_notification_send_seconds", "Time one channel send (a batch) took", ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class OutboxBacklogCollector(Collector):
    """Deliveries not yet sent, by channel and status, read from the database at scrape time
    (the outbox is the record, so every process reports the same figure)."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Lets the registry learn the name without querying the database at start-up."""
        yield _family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = _family()
        try:
            rows = (Delivery.objects.filter(status__in=["pending", "failed"])
                    .values("channel", "status").annotate(n=Count("id")))
            for row in rows:
                gauge.add_metric([row["channel"], row["status"]], row["n"])
        except DatabaseError:
            pass  # /metrics must answer while the database is away; /health reports that
        yield gauge


def _family() -> GaugeMetricFamily:
    return GaugeMetricFamily("opsportal_outbox_backlog", "Deliveries waiting to be sent", labels=["channel", "status"])
