"""Starting and watching real Opsportal processes (bin/serve) from a test."""

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

VENV_BIN = str(Path(sys.executable).parent)
# Settings a test process may carry that would point a child at the test's own Redis or queue.
_INHERITED = ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_QUEUE", "CACHE_KEY_PREFIX", "DATABASE_URL", "PORT",
              "PUBLIC_URL", "OPSPORTAL_PROCESS")


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a process started like `make run` starts it: the embedded default unless
    ``extra`` says otherwise."""
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED and not k.startswith("PYTEST_")}
    env.update({
        "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
        "OPSPORTAL_DATA_DIR": str(data_dir),
        "STATIC_ROOT": str(data_dir / "static"),
        "LOG_FORMAT": "text",
        # The app's own settings: the test settings module (inherited from pytest) would give the
        # child a queue and cache of its own and, embedded, a Redis of its own.
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        # ...but this test process's queue, so tasks it sends reach the child worker.
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        # The suite's own processes share the CPUs with these: no priority split between them.
        "WORKER_NICE": "0",
        **extra,
    })
    return env


def serve(kind: str, data_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``bin/serve kind``, its output in ``data_dir/kind.log``."""
    log = open(data_dir / f"{kind}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([str(settings.BASE_DIR / "bin" / "serve"), kind], env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=settings.BASE_DIR)


def stop(*procs: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(sig)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def logs(data_dir: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(data_dir.glob("*.log")))


def wait_for(predicate: Callable[[], object], what: str, data_dir: Path, timeout: float = 60) -> None:
    """Poll ``predicate`` until it is true; fail with the processes' logs after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{logs(data_dir)}")
