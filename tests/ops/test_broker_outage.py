"""Redis down for a minute: SLA timers do not wait for it, the worker waits for it and comes back on its
own, and a worker stopped meanwhile exits instead of retrying forever (docs/production.md).

Before, the SLA sweep was a task sent through the broker, so a breach due during an outage was recorded
only when Redis came back; and a warm shutdown with Redis down kept retrying its heartbeat event.
"""

from __future__ import annotations

import re
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from incidents import lifecycle
from incidents.models import EventKind, Incident, Severity, Source
from opsportal.celery import app
from opsportal.lib import heartbeat

from .processes import child_env, serve, stop, wait_for
from .redis_server import RedisServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
# The outage the issue reproduced. The worker's reconnect backoff grows to about 14 s by then.
OUTAGE_SECONDS = 60



def _env(data_dir: Path, own_redis: RedisServer) -> dict[str, str]:
    db = connection.settings_dict
    return child_env(
        data_dir,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=own_redis.url,
        SLA_TICK_SECONDS="1",
        WORKER_CONCURRENCY="1",
    )


def _worker_heartbeat(server: RedisServer) -> float | None:
    """The worker heartbeat as /health reads it, from the Redis the processes use."""
    try:
        value = RedisCache(server.url, {"OPTIONS": {"socket_timeout": 2}}).get(heartbeat.PREFIX + "worker")
    except Exception:  # noqa: BLE001 - Redis down
        return None
    return None if value is None else float(value)


def _succeeded(data_dir: Path, task_id: str) -> bool:
    return bool(re.search(rf"Task opsportal\.ping\[{task_id}\] succeeded", (data_dir / "worker.log").read_text()))


def test_breaches_are_recorded_on_time_and_the_worker_recovers_when_redis_is_down(
        data_dir, own_redis, severities):
    fast = Severity.objects.create(name="T1", label="Test", rank=90, response_target=timedelta(seconds=6),
                                   resolution_target=timedelta(hours=1))
    env = _env(data_dir, own_redis)
    worker, scheduler = serve("worker", data_dir, env), serve("scheduler", data_dir, env)
    try:
        wait_for(lambda: _worker_heartbeat(own_redis) is not None, "the worker to take the scheduler's pings",
                 data_dir)

        own_redis.stop()
        down_at = time.monotonic()
        incident = lifecycle.incident_open(title="Queue stuck", severity=fast, source=Source.WEB)
        assert incident.response_due_at is not None

        def breached() -> bool:
            return Incident.objects.filter(pk=incident.pk, response_breached_at__isnull=False).exists()

        wait_for(breached, "the breach due while Redis is down", data_dir, timeout=30)
        assert not own_redis.ping(), "Redis came back before the breach was recorded"
        incident.refresh_from_db()
        assert incident.response_breached_at is not None
        # Recorded by the scheduler's own tick (1 s here), not when the broker came back.
        assert incident.response_breached_at - incident.response_due_at < timedelta(seconds=5)
        assert incident.events.filter(kind=EventKind.SLA_BREACHED).count() == 1

        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
        assert worker.poll() is None, "the worker gave up on the broker"
        assert scheduler.poll() is None, "the scheduler gave up on the broker"

        own_redis.start()  # same port, same append-only file
        with app.connection_for_write(env["REDIS_URL"]) as conn:
            task_id = app.send_task("opsportal.ping", connection=conn).id
        wait_for(lambda: _succeeded(data_dir, task_id), "the worker to run a task sent after the outage", data_dir,
                 timeout=90)
        assert incident.events.filter(kind=EventKind.SLA_BREACHED).count() == 1
    finally:
        stop(worker, scheduler)


def test_a_worker_stopped_while_redis_hangs_exits(data_dir, own_redis):
    env = _env(data_dir, own_redis)
    worker = serve("worker", data_dir, env)
    assert own_redis.proc is not None
    try:
        wait_for(lambda: "ready." in (data_dir / "worker.log").read_text(), "the worker to connect", data_dir)
        own_redis.proc.send_signal(signal.SIGSTOP)  # hung: connections open, nothing answers
        time.sleep(3)
        worker.terminate()  # what the supervisor sends
        wait_for(lambda: worker.poll() is not None, "the worker to exit on SIGTERM", data_dir, timeout=60)
    finally:
        own_redis.proc.send_signal(signal.SIGCONT)
        stop(worker)
