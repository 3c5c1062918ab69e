"""Scrape-time metrics read from the database, so every process reports the same truth."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .models import OPEN_STATUSES, Incident, Severity


def _family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "opsportal_incidents_open", "Open incidents by severity and status", labels=["severity", "status"]
    )


class OpenIncidentsCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Lets the registry learn the name without querying the database at start-up."""
        yield _family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = _family()
        try:
            counts = {
                (row["severity__name"], row["status"]): row["n"]
                for row in Incident.objects.filter(status__in=OPEN_STATUSES)
                .values("severity__name", "status")
                .annotate(n=Count("id"))
            }
            for name in Severity.objects.values_list("name", flat=True):
                for status in OPEN_STATUSES:
                    gauge.add_metric([name, str(status)], counts.get((name, status), 0))
        except Exception:  # noqa: BLE001 - a database outage must not break the whole scrape
            return
        yield gauge
