"""The embedded broker (`make run` without REDIS_URL) is a real Redis: under a burst of concurrent
producers every task runs and the worker stays up (docs/architecture.md, section 8).

kombu's filesystem transport, the embedded broker before, lost tasks and killed the worker here: its
consumer could read a message file before the producer had written it.
"""

from __future__ import annotations

import re
import threading

from opsportal import embedded_redis
from opsportal.celery import app, ping

from .processes import child_env, serve, stop, wait_for
from .redis_server import redis_server_binary

PRODUCERS = 8
TASKS_PER_PRODUCER = 250



def _produce(broker_url: str, ids: list[str], errors: list[BaseException]) -> None:
    """One producer, as a web process is: its own connection, publishing one task after another."""
    try:
        with app.connection_for_write(broker_url) as conn, conn.Producer() as producer:
            for _ in range(TASKS_PER_PRODUCER):
                ids.append(ping.apply_async(producer=producer).id)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def test_it_runs_every_task_from_concurrent_producers_on_the_embedded_redis(data_dir):
    redis_server_binary()  # skips outside CI when there is no redis-server at all
    env = child_env(data_dir, WORKER_CONCURRENCY="2")
    redis, worker = serve("redis", data_dir, env), serve("worker", data_dir, env)
    try:
        broker_url = embedded_redis.broker_url(data_dir)
        wait_for(lambda: "ready." in (data_dir / "worker.log").read_text(), "the worker to connect", data_dir)

        ids: list[str] = []
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_produce, args=(broker_url, ids, errors)) for _ in range(PRODUCERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(set(ids)) == PRODUCERS * TASKS_PER_PRODUCER

        def succeeded() -> set[str]:
            text = (data_dir / "worker.log").read_text(errors="replace")
            return set(re.findall(r"Task opsportal\.ping\[([0-9a-f-]+)\] succeeded", text))

        wait_for(lambda: worker.poll() is not None or set(ids) <= succeeded(), "every task to run", data_dir,
                 timeout=240)
        assert worker.poll() is None, "the worker died"
        assert set(ids) <= succeeded()
        assert redis.poll() is None
    finally:
        stop(worker, redis)
    # The broker kept its queue in the append-only file in the data folder.
    assert (data_dir / "redis" / "appendonly.aof").stat().st_size > 0
