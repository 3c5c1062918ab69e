"""/health and /metrics: the app watching itself (docs/architecture.md section 9)."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from opsportal.celery import app as celery_app
from opsportal.lib import heartbeat, metrics
from opsportal.lib.tokens import digests_match

# A request that came through a reverse proxy carries one of these; its REMOTE_ADDR is the proxy's,
# so it is not trusted as "from an allowed network" (a proxy on the same host would make every
# visitor look like loopback). Such a scraper sends METRICS_TOKEN instead.
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _check_database() -> dict[str, Any]:
    start = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"status": "unhealthy", "error": str(exc).strip()[:200]}
    return {"status": "healthy", "latency_ms": round((time.perf_counter() - start) * 1000, 1),
            "engine": connection.vendor}


def _check_broker() -> dict[str, Any]:
    start = time.perf_counter()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:  # noqa: BLE001
        return {"status": "unhealthy", "error": str(exc).strip()[:200]}
    return {"status": "healthy", "latency_ms": round((time.perf_counter() - start) * 1000, 1),
            "transport": str(transport)}


def _check_heartbeat(name: str) -> dict[str, Any]:
    try:
        age = heartbeat.age(name)
    except Exception as exc:  # noqa: BLE001 - the cache (Redis) may be down
        return {"status": "unhealthy", "error": str(exc).strip()[:200]}
    if age is None:
        return {"status": "unhealthy", "error": f"no {name} heartbeat seen yet"}
    status = "healthy" if age <= settings.HEARTBEAT_STALE_SECONDS else "unhealthy"
    return {"status": status, "last_seen_seconds_ago": round(age, 1)}


def run_checks() -> tuple[str, dict[str, dict[str, Any]]]:
    """Overall status and each check. The database or broker down makes the app unhealthy; a
    silent worker or scheduler makes it degraded (the web still takes alerts, timers wait)."""
    checks = {
        "database": _check_database(),
        "broker": _check_broker(),
        "worker": _check_heartbeat("worker"),
        "scheduler": _check_heartbeat("scheduler"),
    }
    if checks["database"]["status"] != "healthy" or checks["broker"]["status"] != "healthy":
        overall = "unhealthy"
    elif any(c["status"] != "healthy" for c in checks.values()):
        overall = "degraded"
    else:
        overall = "healthy"
    return overall, checks


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 only when every check is healthy, else 503 (load balancers and uptime checks read the code)."""
    overall, checks = run_checks()
    return JsonResponse({"status": overall, "checks": checks}, status=200 if overall == "healthy" else 503)


def metrics_access_allowed(request: HttpRequest) -> bool:
    """``Authorization: Bearer <METRICS_TOKEN>`` (when that setting is set), or a direct request
    from METRICS_ALLOW_NETWORKS (default loopback only); docs/security.md."""
    expected = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if expected and header.startswith("Bearer "):
        return digests_match(header.removeprefix("Bearer ").strip(), expected)
    if any(name in request.META for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOW_NETWORKS)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_access_allowed(request):
        response = HttpResponse(
            "Metrics are served only to METRICS_ALLOW_NETWORKS (default loopback, not through a proxy) "
            "or with Authorization: Bearer <METRICS_TOKEN>.\n",
            status=403,
            content_type="text/plain",
        )
        return response
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
