"""A real Celery worker for the runbook tests (and the browser test of the run panel): the app's own
settings on this test's PostgreSQL database, Redis and Celery queue, with the local HTTP target
and the test programs allowed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from .conftest import SLOW_STEP

CELERY = str(Path(sys.executable).with_name("celery"))


def start_worker(tmp_path: Path, *, concurrency: int = 1) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "OPSPORTAL_DATA_DIR": str(tmp_path),
        "LOG_FORMAT": "text",
        "OUTBOUND_ALLOW_NETWORKS": "127.0.0.1/32",
        "RUNBOOK_COMMANDS_ENABLED": "true",
        "RUNBOOK_COMMAND_ALLOWLIST": SLOW_STEP,
    }
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 - closed with the process
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork", "--concurrency", str(concurrency)]
    return subprocess.Popen([CELERY, "-A", "opsportal", "worker", *pool, "--without-gossip", "--without-mingle",
                             "--loglevel", "INFO"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=settings.BASE_DIR, start_new_session=True)


def worker_log(tmp_path: Path) -> str:
    log = tmp_path / "worker.log"
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


def wait_for(predicate: Callable[[], object], what: str, tmp_path: Path, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n{worker_log(tmp_path)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
