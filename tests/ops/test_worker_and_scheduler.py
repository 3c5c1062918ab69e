"""The real thing: a Celery worker and Celery beat as separate processes on Redis and PostgreSQL.

Timers live in the database, so breaches that fall due while every process is down are recorded,
once, when they come back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from incidents import lifecycle
from incidents.models import EventKind, Incident, Severity, Source
from opsportal.lib import heartbeat

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
CELERY = str(Path(sys.executable).with_name("celery"))


def _env(tmp_path: Path) -> dict[str, str]:
    """The app's own settings, pointed at this test's database, and at the cache keys and queue of
    this xdist worker (tests/settings.py)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "SLA_TICK_SECONDS": "0.5",
        "OPSPORTAL_DATA_DIR": str(tmp_path),
        "LOG_FORMAT": "text",
    }


def _start(kind: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    args = {
        "worker": ["worker", "--pool", "solo", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        "beat": ["beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")],
    }[kind]
    log = open(tmp_path / f"{kind}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([CELERY, "-A", "opsportal", *args], env=_env(tmp_path), stdout=log,
                            stderr=subprocess.STDOUT, cwd=settings.BASE_DIR)


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for(predicate: Callable[[], bool], what: str, tmp_path: Path, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in tmp_path.glob("*.log"))
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def _wait_for_ticks(count: int, tmp_path: Path) -> None:
    """Wait until the worker has started ``count`` more SLA ticks; each one beats first, and the
    solo pool runs one at a time, so all but the last have finished."""
    for n in range(count):
        last = cache.get(heartbeat.PREFIX + "worker")

        def ticked(last: object = last) -> bool:
            return bool(cache.get(heartbeat.PREFIX + "worker") != last)

        _wait_for(ticked, f"SLA tick {n + 1}", tmp_path)


def _breaches(incident: Incident) -> int:
    return incident.events.filter(kind=EventKind.SLA_BREACHED).count()


def test_it_records_breaches_with_a_real_worker_and_scheduler_and_survives_their_restart(tmp_path, severities):
    fast = Severity.objects.create(name="T1", label="Test", rank=90, response_target=timedelta(seconds=2),
                                   resolution_target=timedelta(hours=1))
    due_soon = lifecycle.incident_open(title="Queue stuck", severity=fast, source=Source.WEB)

    worker, beat = _start("worker", tmp_path), _start("beat", tmp_path)
    try:
        # Nobody calls the task here: beat must send it, the worker must run it.
        _wait_for(lambda: _breaches(due_soon) == 1, "the scheduled tick to record the breach", tmp_path)
        _wait_for(lambda: heartbeat.age("worker") is not None and heartbeat.age("scheduler") is not None,
                  "worker and scheduler heartbeats", tmp_path)
    finally:
        _stop(worker, beat)

    # Everything is down; a deadline passes meanwhile.
    while_down = lifecycle.incident_open(title="Disk full", severity=fast, source=Source.WEB,
                                         opened_at=timezone.now() - timedelta(seconds=5))
    assert _breaches(while_down) == 0

    worker, beat = _start("worker", tmp_path), _start("beat", tmp_path)
    try:
        _wait_for(lambda: _breaches(while_down) == 1, "the breach that fell due while down", tmp_path)
        _wait_for_ticks(3, tmp_path)  # several more ticks run: nothing may be recorded twice
    finally:
        _stop(worker, beat)
    assert _breaches(due_soon) == 1 and _breaches(while_down) == 1
