"""Prometheus metrics shared by every process, and the HTTP request middleware.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``make run`` and docker-compose set it), web workers and
Celery workers write their samples to that folder and ``/metrics`` adds them up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

HTTP_REQUESTS = Counter(
    "opsportal_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "opsportal_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TRANSITIONS = Counter(
    "opsportal_incident_transitions_total", "Committed incident state changes", ["action", "source"]
)
SLA_BREACHES = Counter(
    "opsportal_sla_breaches_total", "SLA breaches recorded", ["severity", "kind"]
)

# Methods a client may send are unbounded ("FOO", "GETX"...): anything else counts as "other",
# like a path no URL pattern matched counts as "unmatched", so a scanner cannot grow the series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
UNMATCHED_ROUTE = "unmatched"

_extra_collectors: list[Collector] = []


def register_collector(collector: Collector) -> None:
    """Add a scrape-time collector (e.g. one that reads open incidents from the database)."""
    _extra_collectors.append(collector)
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        REGISTRY.register(collector)


def render() -> tuple[bytes, str]:
    """The exposition text for /metrics."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
        for collector in _extra_collectors:
            registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class RequestMetricsMiddleware:
    """Counts requests by resolved route pattern (not raw path) and known method, so every label
    has a bounded set of values whatever clients send."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match and match.route else UNMATCHED_ROUTE
        method = request.method if request.method in KNOWN_METHODS else OTHER_METHOD
        HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(route).observe(time.perf_counter() - start)
        return response
