"""The database timers, run by the scheduler process itself (docs/architecture.md, section 3).

Every timer is a due-time column; a sweep function claims due rows with ``SKIP LOCKED`` and acts
through the service functions. Calling the sweeps here, in a thread of the scheduler, instead of
sending a task through the broker means a due SLA breach is recorded on time while Redis is down,
and two schedulers never act on the same row.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.db import close_old_connections
from django.utils.module_loading import import_string

from opsportal.lib import heartbeat

log = logging.getLogger(__name__)

Sweep = Callable[[], Any]


def run_due(sweeps: Mapping[str, tuple[Sweep, float]], next_run: dict[str, float], now: float) -> float:
    """Run each sweep whose time has come (a failing one is logged, the others still run); returns the
    seconds until the next one is due."""
    for name, (sweep, interval) in sweeps.items():
        if next_run.get(name, 0.0) > now:
            continue
        next_run[name] = now + interval
        close_old_connections()
        try:
            sweep()
        except Exception:  # noqa: BLE001 - a database error now must not stop the next round
            log.exception("scheduler sweep %s failed; retrying in %.0f s", name, interval)
        finally:
            close_old_connections()
    return max(0.0, min(next_run.values()) - time.monotonic())


def _loop(sweeps: Mapping[str, tuple[Sweep, float]], stop: threading.Event) -> None:
    next_run: dict[str, float] = {}
    try:
        while not stop.is_set():
            wait = run_due(sweeps, next_run, time.monotonic())
            heartbeat.beat("scheduler")
            stop.wait(wait)
    except BaseException:
        # The timers are why this process exists: exit, and the supervisor starts a fresh one.
        log.critical("scheduler sweeps stopped unexpectedly; exiting", exc_info=True)
        logging.shutdown()
        os._exit(1)


_started: threading.Event | None = None


def start_sweeps(config: Mapping[str, tuple[str, float]]) -> threading.Event:
    """Start the sweeps of ``config`` (name -> (dotted path of a function, interval in seconds)) in a
    daemon thread, once per process; set the returned event to stop it."""
    global _started
    if _started is not None:
        return _started
    sweeps = {name: (import_string(path), float(interval)) for name, (path, interval) in config.items()}
    stop = _started = threading.Event()
    threading.Thread(target=_loop, args=(sweeps, stop), name="opsportal-sweeps", daemon=True).start()
    log.info("scheduler sweeps started", extra={"sweeps": {n: i for n, (_, i) in sweeps.items()}})
    return stop
