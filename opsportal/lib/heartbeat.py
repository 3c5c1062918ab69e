"""Process heartbeats, kept in the shared cache (Redis, or files for the embedded default)."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)

PREFIX = "opsportal:heartbeat:"


def beat(name: str) -> None:
    """Record that process ``name`` is alive now. Never raises: a heartbeat must not break the caller."""
    try:
        cache.set(PREFIX + name, time.time(), timeout=24 * 3600)
    except Exception:  # noqa: BLE001 - health reporting must not take the scheduler or a task down
        log.warning("could not record the %s heartbeat", name, exc_info=True)


def age(name: str) -> float | None:
    """Seconds since ``name`` last beat, or None if it never did."""
    last = cache.get(PREFIX + name)
    return None if last is None else max(0.0, time.time() - float(last))
