"""Alertmanager webhook ingestion benchmark (``make bench``). Prints figures; never fails the run.

Runs the app under gunicorn on a free loopback port against its own PostgreSQL database
(``opsp_bench`` on the server of DATABASE_URL, or BENCH_DATABASE_URL), then POSTs real-shaped
webhook bodies over HTTP from threads:

1. throughput: fresh groups of 1, 10 and 100 alerts per webhook (each post opens an incident),
   plus byte-identical repeats of 100-alert posts: webhooks/s, alerts/s, p50/p95 latency;
2. storm: 10,000 alerts in 50 groups from 8 concurrent senders. Like Alertmanager, each group is
   flushed 4 times as it grows (50, 100, 150, 200 alerts, each post carrying the whole group so
   far), so 200 posts carry 25,000 alerts and the same group is often posted concurrently. Then
   each group resolves in one post. Checks: 50 incidents, 10,000 alerts, 50 resolved.

Targets (docs/architecture.md section 10, on 2 cores): >= 500 alerts/s sustained; storm drained in < 30 s.
Keep the runtime under about two minutes.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import queue
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "opsp_bench"
SENDERS = 8
TARGET_ALERTS_PER_S = 500
TARGET_STORM_S = 30.0


# --- database and app -------------------------------------------------------------------------


def bench_database_url(name: str = BENCH_DB) -> str:
    """BENCH_DATABASE_URL, else database ``name`` on the server of DATABASE_URL (or the local one)."""
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        base, parts = "postgres://postgres@127.0.0.1:5432/postgres", urlsplit("postgres://postgres@127.0.0.1:5432/postgres")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("OPSPORTAL_DATA_DIR", str(ROOT / "data" / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def reset_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE alertmanager_alert, alertmanager_webhookdelivery, alertmanager_silence, "
            "alertmanager_maintenancewindow, alertmanager_integration, incidents_timelineevent, "
            "incidents_incident CASCADE"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "DEBUG": "false"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "opsportal.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--worker-class", "gthread", "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    # Unauthenticated: answered 401 without touching the database once a worker is up.
    wait_port(port, process, "gunicorn", "/hooks/alertmanager")
    return process


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_port(port: int, process: subprocess.Popen[bytes], what: str, path: str = "/") -> None:
    """Until ``process`` answers a POST to ``path``; it exiting (with the end of its stderr, when
    piped) or 60 s of silence (then it is stopped) ends the benchmark."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = process.stderr.read().decode()[-2000:] if process.stderr else ""
            raise SystemExit(f"{what} exited with {process.returncode}: {said}")
        try:
            requests.post(f"http://127.0.0.1:{port}{path}", timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"{what} did not answer within 60 s")


# --- payloads -------------------------------------------------------------------------------


def alert(group: str, i: int, status: str = "firing", severity: str = "critical") -> dict[str, Any]:
    labels = {"alertname": group, "instance": f"node-{i}:9100", "job": "node", "service": "bench",
              "severity": severity}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{group} on node-{i}", "description": f"node-{i} is unwell for 10m"},
        "startsAt": "2026-11-23T09:03:18.359775292Z",
        "endsAt": "2026-11-23T09:13:18Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.example:9090/graph?g0.expr={group}",
        "fingerprint": hashlib.sha256(f"{group}/{i}".encode()).hexdigest()[:16],
    }


def body(group: str, alerts: list[dict[str, Any]]) -> bytes:
    common = {"alertname": group, "job": "node", "service": "bench", "severity": alerts[0]["labels"]["severity"]}
    return json.dumps({
        "receiver": "opsportal", "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "alerts": alerts, "groupLabels": {"alertname": group}, "commonLabels": common,
        "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093", "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}', "truncatedAlerts": 0,
    }, separators=(",", ":")).encode()


# --- sending --------------------------------------------------------------------------------


class Sender:
    """Posts bodies from a queue with N threads; records latency and answers.

    Each thread holds one keep-alive connection (http.client, reopened after the server closes
    it), as Alertmanager does. The load generator shares the machine's cores with the app under
    test, so it should cost what Alertmanager's Go client costs, not more: ``requests`` took
    about 2.9 ms of CPU a post here, this 0.7 ms, CPU the app and the floor then keep."""

    def __init__(self, url: str, token: str, threads: int):
        self.url, self.token, self.threads = url, token, threads

    def run(self, posts: list[tuple[bytes, int]]) -> dict[str, Any]:
        work: queue.Queue[tuple[bytes, int] | None] = queue.Queue()
        for post in posts:
            work.put(post)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors: list[str] = []
        lock = threading.Lock()
        target = urlsplit(self.url)
        path = target.path + (f"?{target.query}" if target.query else "")

        def worker() -> None:
            connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=120)
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                       "User-Agent": "Alertmanager/0.25.0 (bench)"}
            while True:
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    connection.close()
                    return
                assert item is not None
                data, _ = item
                start = time.perf_counter()
                try:
                    connection.request("POST", path, body=data, headers=headers)
                    response = connection.getresponse()
                    code, text = response.status, response.read().decode("utf-8", "replace")
                except (OSError, http.client.HTTPException) as exc:
                    code, text = 0, f"{type(exc).__name__}: {exc}"
                    connection.close()  # the next request opens a new one
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    statuses[code] = statuses.get(code, 0) + 1
                    if code != 200 and len(errors) < 5:
                        errors.append(f"{code}: {text[:200]}")

        start = time.perf_counter()
        pool = [threading.Thread(target=worker) for _ in range(self.threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        wall = time.perf_counter() - start
        alerts = sum(n for _, n in posts)
        return {"wall": wall, "latencies": latencies, "statuses": statuses, "errors": errors,
                "webhooks": len(posts), "alerts": alerts}


SINGLE_POSTS = 400


def warm(url: str, token: str) -> None:
    Sender(url, token, 4).run([(body("Warmup", [alert("Warmup", i) for i in range(10)]), 10)] * 20)


def single_posts(url: str, token: str, tag: str) -> dict[str, Any]:
    posts = [(body(f"{tag}{n:03d}", [alert(f"{tag}{n:03d}", 0)]), 1) for n in range(SINGLE_POSTS)]
    return Sender(url, token, 4).run(posts)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, result: dict[str, Any]) -> None:
    wall = result["wall"]
    lat = result["latencies"]
    print(f"  {name:<34} {result['webhooks']:>5} webhooks {result['alerts']:>6} alerts in {wall:6.2f} s | "
          f"{result['webhooks'] / wall:7.1f} webhooks/s {result['alerts'] / wall:8.0f} alerts/s | "
          f"p50 {percentile(lat, 50) * 1000:6.1f} ms p95 {percentile(lat, 95) * 1000:6.1f} ms | "
          f"answers {dict(sorted(result['statuses'].items()))}")
    for error in result["errors"]:
        print(f"    ! {error}")


# --- scenarios ------------------------------------------------------------------------------


def throughput(sender: Sender, size: int, webhooks: int, tag: str) -> dict[str, Any]:
    posts = [(body(f"{tag}{size}x{n}", [alert(f"{tag}{size}x{n}", i) for i in range(size)]), size)
             for n in range(webhooks)]
    return sender.run(posts)


def storm(sender: Sender, groups: int = 50, per_group: int = 200, flushes: int = 4) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = random.Random(3)
    names = [f"Storm{g:02d}" for g in range(groups)]
    posts: list[tuple[bytes, int]] = []
    step = per_group // flushes
    for flush in range(1, flushes + 1):
        round_ = [(body(name, [alert(name, i) for i in range(step * flush)]), step * flush) for name in names]
        rng.shuffle(round_)
        posts.extend(round_)
    fired = sender.run(posts)
    resolve = [(body(name, [alert(name, i, status="resolved") for i in range(per_group)]), per_group)
               for name in names]
    resolved = sender.run(resolve)
    return fired, resolved


def counts(prefix: str) -> dict[str, int]:
    from incidents.integrations.alertmanager.models import Alert
    from incidents.models import Incident, Status

    incidents = Incident.objects.filter(title__startswith=prefix)
    return {
        "incidents": incidents.count(),
        "resolved": incidents.filter(status=Status.RESOLVED).count(),
        "alerts": Alert.objects.filter(labels__alertname__startswith=prefix).count(),
    }


def check(label: str, ok: bool) -> str:
    return f"{label}: {'OK' if ok else 'MISS'}"


def main() -> None:
    url = bench_database_url()
    started = time.perf_counter()
    ensure_database(url)
    setup_django(url)
    reset_tables()
    from incidents.integrations.alertmanager.integration import integration_create

    _, token = integration_create(name="bench", title_template="{{ groupLabels.alertname }} ({{ alerts | length }})")
    cores = os.cpu_count() or 2
    workers, threads = max(2, cores * 2), 2
    port = free_port()
    server = start_server(url, port, workers, threads)
    target = f"http://127.0.0.1:{port}/hooks/alertmanager"
    print(f"Alertmanager ingestion benchmark: PostgreSQL {urlsplit(url).netloc}{urlsplit(url).path}, "
          f"gunicorn {workers} workers x {threads} threads, {cores} cores, "
          f"load average {os.getloadavg()[0]:.1f} (other processes on the machine slow every figure)")
    try:
        warm = Sender(target, token, 4)
        warm.run([(body("Warmup", [alert("Warmup", i) for i in range(10)]), 10)] * 20)

        print("\nThroughput (fresh groups: every webhook opens an incident), 4 senders:")
        results: list[tuple[int, dict[str, Any]]] = []
        for size, webhooks in ((1, 400), (10, 300), (100, 120)):
            result = throughput(Sender(target, token, 4), size, webhooks, "Tput")
            report(f"{size} alert(s) per webhook", result)
            results.append((size, result))
        repeats = [(body("Tput100x0", [alert("Tput100x0", i) for i in range(100)]), 100)] * 200
        report("100 alerts, byte-identical repeats", Sender(target, token, 4).run(repeats))

        print(f"\nStorm: 10,000 alerts in 50 groups, {SENDERS} concurrent senders:")
        fired, resolved = storm(Sender(target, token, SENDERS))
        report("fire (4 growing flushes per group)", fired)
        after_fire = counts("Storm")
        report("resolve (one post per group)", resolved)
        after_resolve = counts("Storm")
        drained = fired["wall"]
        print(f"  incidents created: {after_fire['incidents']} (must be 50) | alerts stored: {after_fire['alerts']} "
              f"(must be 10,000) | incidents auto-resolved: {after_resolve['resolved']} (must be 50)")
        print(f"  storm drained (last 2xx) in {drained:.2f} s; resolve storm in {resolved['wall']:.2f} s")

        carried = fired["alerts"] / fired["wall"]
        stored = after_fire["alerts"] / fired["wall"]
        print(f"  sustained during the storm: {carried:.0f} alerts/s received, {stored:.0f} distinct alerts/s stored")
        print("\nTargets:")
        print("  " + check(f">= {TARGET_ALERTS_PER_S} alerts/s sustained (storm: {carried:.0f} received/s, "
                           f"{stored:.0f} stored/s)", min(carried, stored) >= TARGET_ALERTS_PER_S))
        print("  " + check(f"storm drained in < {TARGET_STORM_S:.0f} s ({drained:.2f} s)", drained < TARGET_STORM_S))
        print("  " + check("storm made exactly 50 incidents and 10,000 alerts",
                           after_fire["incidents"] == 50 and after_fire["alerts"] == 10_000))
        print("  " + check("every storm incident auto-resolved", after_resolve["resolved"] == 50))
        all_ok = all(set(r["statuses"]) == {200} for _, r in results) and set(fired["statuses"]) == {200}
        print("  " + check("every webhook answered 200", all_ok))
    finally:
        stop_server(server)
    print(f"\nTotal benchmark time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
