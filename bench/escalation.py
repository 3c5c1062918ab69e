"""Escalation benchmark (``make bench``). Prints figures; never fails the run.

1. Lateness: 1,000 open, unacknowledged incidents whose level 2 falls due 10 s after each opened,
   so the deadlines are staggered over the time it takes to open them (tens of seconds), on
   PostgreSQL + Redis, with the real processes running meanwhile (``bin/serve scheduler`` with a
   1 s tick and two ``bin/serve worker`` processes sending the messages). Per escalation: recorded
   time minus due time, p50 / p95 / p99; duplicates (a level paged twice: must be 0).
   Target: p99 <= tick + 1 s.
2. Tick cost with 100,000 incidents in the table: the EXPLAIN of the tick's due query (its node
   type and index: an index, not a scan) and the time of one tick with nothing due.

Uses its own database (``opsp_bench_escalation`` on the server of DATABASE_URL, or
BENCH_DATABASE_URL) and REDIS_URL (default redis://127.0.0.1:6379/11).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "opsp_bench_escalation"
INCIDENTS = 1_000
TABLE_ROWS = 100_000
TICK_SECONDS = 1.0
LEVEL_2_DELAY = 10


def bench_database_url() -> str:
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{BENCH_DB}", parts.query, parts.fragment))


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')


def setup_django(url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("OPSPORTAL_DATA_DIR", str(ROOT / "data" / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def serve(kind: str, env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log = open(log_dir / f"{kind}-{time.monotonic_ns()}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([str(ROOT / "bin" / "serve"), kind], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=ROOT)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def lateness(url: str, redis_url: str) -> None:
    from incidents import lifecycle
    from incidents.escalation import policies
    from incidents.escalation.models import EscalationPolicy
    from incidents.models import EventKind, Incident, Severity, Source, TimelineEvent
    from incidents.notifications.models import Delivery

    Incident.objects.all().delete()
    EscalationPolicy.objects.all().delete()
    policy = policies.policy_save(data={"name": "Bench", "levels": [
        {"delay_seconds": 0, "targets": [{"type": "email", "value": "level1@example.com"}]},
        {"delay_seconds": LEVEL_2_DELAY, "targets": [{"type": "email", "value": "level2@example.com"}]}]})
    severity = Severity.objects.order_by("rank").first()
    assert severity is not None
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "ESCALATION_TICK_SECONDS": str(TICK_SECONDS),
           "WORKER_CONCURRENCY": "1", "LOG_FORMAT": "text", "NOTIFY_EMAIL_TO": "bench@example.com",
           "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", "CELERY_QUEUE": "bench-escalation",
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    log_dir = Path(tempfile.mkdtemp(prefix="bench-esc-"))
    procs = [serve("worker", env, log_dir), serve("worker", env, log_dir), serve("scheduler", env, log_dir)]
    time.sleep(5)  # the processes start
    started = time.monotonic()
    for i in range(INCIDENTS):
        lifecycle.incident_open(title=f"Bench {i}", severity=severity, source=Source.API, escalation_policy=policy)
    opening = time.monotonic() - started
    level_1 = TimelineEvent.objects.filter(kind=EventKind.ESCALATED, data__level=1)
    due_at = {pk: at + timedelta(seconds=LEVEL_2_DELAY) for pk, at in level_1.values_list("incident_id", "created_at")}
    try:
        deadline = time.monotonic() + LEVEL_2_DELAY + 60
        level_2 = TimelineEvent.objects.filter(kind=EventKind.ESCALATED, data__level=2)
        while time.monotonic() < deadline and level_2.count() < INCIDENTS:
            time.sleep(0.5)
        time.sleep(2 * TICK_SECONDS)  # a duplicate would show up now
        events = list(level_2.values_list("incident_id", "created_at"))
        sent_deadline = time.monotonic() + 30
        while time.monotonic() < sent_deadline and Delivery.objects.filter(
                kind=EventKind.ESCALATED, status="pending").exists():
            time.sleep(0.5)
        sent = Delivery.objects.filter(kind=EventKind.ESCALATED, target="level2@example.com", status="sent").count()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    late = [(at - due_at[pk]).total_seconds() for pk, at in events if due_at.get(pk)]
    per_incident: dict[int, int] = {}
    for pk, _ in events:
        per_incident[pk] = per_incident.get(pk, 0) + 1
    duplicates = sum(n - 1 for n in per_incident.values() if n > 1)
    print(f"escalation lateness: {len(per_incident)}/{INCIDENTS} incidents escalated to level 2 "
          f"(tick {TICK_SECONDS:.0f} s, 2 workers, scheduler; opened over {opening:.0f} s, level 2 due "
          f"{LEVEL_2_DELAY} s after each)")
    if late:
        p99 = percentile(late, 99)
        print(f"  lateness p50 {percentile(late, 50):.2f} s, p95 {percentile(late, 95):.2f} s, p99 {p99:.2f} s, "
              f"max {max(late):.2f} s, mean {statistics.mean(late):.2f} s; target p99 <= {TICK_SECONDS + 1:.0f} s: "
              f"{'met' if p99 <= TICK_SECONDS + 1 else 'MISSED'}")
    print(f"  duplicates: {duplicates} (must be 0); level-2 emails sent by the workers: {sent}")


def tick_cost() -> None:
    from django.db import connection
    from django.utils import timezone

    from incidents.escalation.engine import escalation_tick
    from incidents.models import Incident, Severity

    severity = Severity.objects.order_by("rank").first()
    assert severity is not None
    now = timezone.now()
    have = Incident.objects.count()
    rows = []
    for i in range(have, TABLE_ROWS):
        # Mostly history, some open and acknowledged, some unacknowledged waiting for a later level.
        status = "closed" if i % 10 < 8 else ("acknowledged" if i % 10 == 8 else "triggered")
        rows.append(Incident(title=f"History {i}", severity=severity, status=status, opened_at=now,
                             response_due_at=now, resolve_due_at=now,
                             next_escalation_at=now + timedelta(hours=1) if status == "triggered" else None))
    started = time.monotonic()
    Incident.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    print(f"tick cost: {Incident.objects.count():,} incidents in the table (inserted in "
          f"{time.monotonic() - started:.1f} s)")
    query = (Incident.objects.filter(status="triggered", next_escalation_at__lte=now)
             .order_by("next_escalation_at").values_list("pk", flat=True)[:500])
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql} FOR UPDATE SKIP LOCKED", params)
        row = cursor.fetchone()
    plan: Any = row[0] if row else [{"Plan": {"Node Type": "none"}, "Execution Time": 0.0}]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    nodes = []
    node = plan["Plan"]
    while node:
        nodes.append(f"{node['Node Type']}{' on ' + node['Index Name'] if node.get('Index Name') else ''}")
        node = (node.get("Plans") or [None])[0]
    print(f"  due query plan: {' > '.join(nodes)}; execution {plan['Execution Time']:.3f} ms")
    timings = []
    for _ in range(20):
        started = time.monotonic()
        escalation_tick()
        timings.append((time.monotonic() - started) * 1000)
    print(f"  one tick with nothing due: median {statistics.median(timings):.2f} ms, max {max(timings):.2f} ms "
          "(20 ticks)")


def main() -> None:
    url = bench_database_url()
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/11"
    try:
        ensure_database(url)
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not fail the run
        print(f"escalation bench skipped: no PostgreSQL at {url} ({exc})")
        return
    setup_django(url, redis_url)
    lateness(url, redis_url)
    tick_cost()


if __name__ == "__main__":
    main()
