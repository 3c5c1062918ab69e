"""Notifications benchmark (``make bench``). Prints figures beside their targets; never fails the run.

The real processes: ``bin/serve hooks`` (the webhook pool Alertmanager is given: gunicorn, 2 workers x
4 threads), ``bin/serve worker`` (one Celery worker, 2 pool processes, at its default lower priority) and ``bin/serve scheduler`` (beat and the outbox sweep), on PostgreSQL
(``opsp_bench_notifications`` on the server of DATABASE_URL, or BENCH_DATABASE_URL) and Redis
(REDIS_URL with its own queue name and cache prefix, else a redis-server started here on a free port).
Slack's Web API and PagerDuty's Events API are the contract servers of tests/contracts, running in
this process; the Slack one stamps when each call arrived.

1. Latency, webhook -> Slack root message, over 200 incidents (200 distinct groups posted at 10/s).
   Slack allows about one message per second per channel (the app paces itself to that), so 10
   incidents a second into one channel cannot be announced within a second by anyone: the 200 groups
   belong to 20 services, each routed to its own Slack channel (0.5 incidents/s per channel).
2. The 10,000-alert, 50-group storm of bench/alertmanager_ingest.py with Slack and PagerDuty on:
   root messages, Slack calls per incident, every delivery sent once the outbox drains, and the
   ingestion rate against the same storm with notifications truly off (the channels installed but
   not registered: bench/notifications_off_settings.py) and with them unconfigured (preview rows).
   Each configuration runs the storm BENCH_STORMS times (3; tables emptied and processes idle
   between them) and the ratios compare median fire rates: one storm's rate varies by 15-30%
   from run to run on a shared two-core machine. The last storm is the one checked.
   Its incidents are P1 and would each get their own Slack channel too; that is switched off
   (SLACK_INCIDENT_CHANNEL_SEVERITIES empty) so each incident has exactly one Slack conversation.
3. Ingestion against the floor: ../shared/bench/limit_probe.py (two upserts per post), loaded from
   where it lies, never copied into the repo, on the same storm (as many times, medians compared) and on single-alert posts (each
   opening its own incident), and, shown beside them, on the same single-alert posts repeated.

Each configuration's phases start once its processes have started (imported the app, warmed up):
a worker still starting took its CPU from the first storm measured. The CPU each process spends
per post is printed beside the storm and the single-alert posts (bench/cpu.py).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from bench.alertmanager_ingest import (
    SENDERS,
    Sender,
    alert,
    bench_database_url,
    body,
    ensure_database,
    free_port,
    percentile,
    report,
    single_posts,
    stop_server,
    storm,
    wait_port,
    warm,
)
from bench.alertmanager_ingest import setup_django as ingest_setup_django
from bench.cpu import CpuMeter, breakdown, wait_idle
from bench.limit_floor import checkpoint, floor, limit_probe_path
from bench.notification_contracts import ContractProcess, RemotePagerDuty, RemoteSlack
from tests.contracts.slack import DEFAULT_CHANNEL_ID

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "opsp_bench_notifications"
DATA = Path(os.environ.get("OPSPORTAL_DATA_DIR") or ROOT / "data" / "bench")
ROUTING_KEY = "B3NCHR0UT1NGKEY0123456789abcdefA"
QUEUE = "opsp-bench-notifications"
LATENCY_INCIDENTS, LATENCY_RATE, LATENCY_CHANNELS = 200, 10.0, 20
DRAIN_SECONDS = 300.0
# Storms per configuration (and for the floor); the ratios compare their medians. The last one of
# each configuration is the one checked (roots, calls, deliveries) and measured by process.
STORMS = int(os.environ.get("BENCH_STORMS", "3"))
TARGET_P95_S, TARGET_CALLS, TARGET_RATIO, TARGET_FLOOR = 1.0, 3, 0.8, 0.5
# --- processes ---------------------------------------------------------------------------------


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def redis_url() -> Iterator[str]:
    """REDIS_URL when given (own queue and cache prefix), else a throwaway redis-server."""
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        from opsportal.embedded_redis import server_executable

        binary = server_executable()
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_server(process)


class App:
    """bin/serve hooks, worker and scheduler with one environment; stopped on exit."""

    def __init__(self, env: dict[str, str], label: str):
        self.env, self.label, self.port = env, label, free_port()
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> App:
        logs = DATA / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = {**self.env, "HOOKS_PORT": str(self.port)}
        for role in ("hooks", "worker", "scheduler"):
            out = (logs / f"{self.label}-{role}.log").open("wb")
            self.processes.append(subprocess.Popen([str(ROOT / "bin" / "serve"), role], cwd=ROOT, env=env,
                                                   stdout=subprocess.DEVNULL if role == "hooks" else out,
                                                   stderr=out))
        wait_port(self.port, self.processes[0], f"bin/serve hooks ({self.label})", "/hooks/alertmanager")
        # Measured phases start once every process has started (imported the app, connected).
        wait_idle([process.pid for process in self.processes])
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            stop_server(process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/alertmanager"


def child_env(db: str, redis: str, *, slack: RemoteSlack | None, pagerduty: RemotePagerDuty | None,
              settings_module: str = "opsportal.settings") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAGERDUTY_", "NOTIFY_EMAIL"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update({
        "DJANGO_SETTINGS_MODULE": settings_module, "DATABASE_URL": db, "REDIS_URL": redis,
        "CELERY_QUEUE": QUEUE, "CACHE_KEY_PREFIX": QUEUE, "OPSPORTAL_DATA_DIR": str(DATA),
        "LOG_LEVEL": "WARNING", "DEBUG": "false", "OUTBOUND_ALLOW_NETWORKS": "127.0.0.0/8",
        "SLACK_INCIDENT_CHANNEL_SEVERITIES": "", "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    })
    if slack is not None:
        env.update({"SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": slack.token,
                    "SLACK_DEFAULT_CHANNEL": DEFAULT_CHANNEL_ID, "SLACK_WORKSPACE_URL": "https://bench.slack.example"})
    if pagerduty is not None:
        env.update({"PAGERDUTY_EVENTS_URL": pagerduty.url, "PAGERDUTY_CA_BUNDLE": str(pagerduty.ca_file),
                    "PAGERDUTY_ROUTING_KEY": ROUTING_KEY})
    return env


def setup_django(db: str, redis: str) -> None:
    """Django in this process, on the bench's database and Redis queue (migrated)."""
    os.environ.update({"REDIS_URL": redis, "CELERY_QUEUE": QUEUE, "CACHE_KEY_PREFIX": QUEUE,
                       "OPSPORTAL_DATA_DIR": str(DATA), "LOG_LEVEL": "WARNING"})
    ingest_setup_django(db)


def reset() -> None:
    """Empty every table the runs write (incidents cascade to conversations and deliveries)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE alertmanager_alert, alertmanager_webhookdelivery, alertmanager_integration, "
            "incidents_timelineevent, incidents_incident, notifications_route, slack_slackchannelpace CASCADE"
        )
    checkpoint(os.environ["DATABASE_URL"])  # the bench's database (setup_django)


def purge_queue(url: str) -> None:
    """Drop the tasks a previous configuration left in the bench's queue, so they do not run (and
    cost CPU) during the next one's measurements."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{QUEUE}*"):
        client.delete(key)


def integration(name: str, service: str | None = None) -> str:
    from incidents.integrations.alertmanager.integration import integration_create
    from incidents.models import Service

    default_service = Service.objects.get_or_create(name=service)[0] if service else None
    _, token = integration_create(name=name, default_service=default_service,
                                  title_template="{{ groupLabels.alertname }} ({{ alerts | length }})")
    return str(token)


# --- scenarios ---------------------------------------------------------------------------------


def latency(app: App, slack: RemoteSlack) -> dict[str, Any]:
    """200 groups, 20 services each routed to its own channel, posted at 10/s; seconds from the post
    to the root message's arrival at Slack."""
    from incidents.models import Service
    from incidents.notifications.routing import route_create

    tokens = []
    for n in range(LATENCY_CHANNELS):
        channel_id = slack.channel_by_name(f"svc-{n:02d}") or {"id": slack.add_channel(f"svc-{n:02d}")}
        tokens.append(integration(f"latency-{n:02d}", f"svc-{n:02d}"))
        route_create(channel="slack", target=channel_id["id"], service=Service.objects.get(name=f"svc-{n:02d}"))
    slack.log.clear()
    sent: dict[str, float] = {}
    answers: Counter[int] = Counter()
    lock = threading.Lock()

    def post(group: str, token: str) -> None:
        with lock:
            sent[group] = time.time()
        try:
            code = requests.post(app.url, data=body(group, [alert(group, 0)]), timeout=30, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"}).status_code
        except requests.RequestException:
            code = 0
        with lock:
            answers[code] += 1

    threads = []
    start = time.monotonic()
    for n in range(LATENCY_INCIDENTS):
        delay = start + n / LATENCY_RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=post, args=(f"Lat{n:03d}", tokens[n % LATENCY_CHANNELS]))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(1 for e in slack.log if e[1] == "root") < LATENCY_INCIDENTS:
        time.sleep(0.2)
    roots = {group: at for at, method, _, _, group in slack.log if method == "root" and group}
    delays = [roots[g] - sent[g] for g in sent if g in roots]
    return {"delays": delays, "roots": len(roots), "answers": dict(answers)}


def drain(deadline_s: float = DRAIN_SECONDS) -> float | None:
    """Seconds until no delivery is pending or failed (None: not within the deadline)."""
    from incidents.notifications.models import Delivery

    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        if not Delivery.objects.filter(status__in=["pending", "failed"]).exists():
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def delivery_counts() -> dict[str, dict[str, int]]:
    from django.db.models import Count

    from incidents.notifications.models import Delivery

    out: dict[str, dict[str, int]] = defaultdict(dict)
    for row in Delivery.objects.values("channel", "status").annotate(n=Count("id")):
        out[row["channel"]][row["status"]] = row["n"]
    return dict(out)


def calls_per_incident(slack: RemoteSlack) -> tuple[int, list[int], Counter[str]]:
    """Root messages, chat calls per conversation (root + replies + updates), calls by method."""
    per_root: Counter[tuple[str, str]] = Counter()
    methods: Counter[str] = Counter()
    for _, method, channel, root, _ in slack.log:
        per_root[(channel, root)] += 1
        methods[method] += 1
    return methods["root"], list(per_root.values()), methods


def rate(result: dict[str, Any]) -> float:
    return float(result["alerts"] / result["wall"])


def storm_rate(result: dict[str, Any]) -> float:
    """The median fire rate of a configuration's storms: one storm's rate varies by 15-30% from
    run to run on a shared two-core machine."""
    return float(statistics.median(result["fire_rates"]))


def rates_text(result: dict[str, Any]) -> str:
    return ", ".join(f"{r:.0f}" for r in result["fire_rates"]) + f" alerts/s (median {storm_rate(result):.0f})"


def mode(label: str, env: dict[str, str], *, slack: RemoteSlack | None = None,
         pagerduty: RemotePagerDuty | None = None, with_latency: bool = False,
         contracts: ContractProcess | None = None) -> dict[str, Any]:
    """One configuration: fresh tables, the processes, (latency), the storm, single-alert posts."""
    from incidents.integrations.alertmanager.models import Alert
    from incidents.models import Incident

    out: dict[str, Any] = {}
    reset()
    purge_queue(env["REDIS_URL"])
    with App(env, label) as app:
        warm(app.url, integration("warmup"))
        if with_latency and slack is not None:
            drain(60)
            reset()
            out["latency"] = latency(app, slack)
            # The storm starts with the workers idle, as it does in the other configurations:
            # the latency phase's last messages are sent first.
            drain(60)
        reset()
        pids = [process.pid for process in app.processes]
        out["fire_rates"] = []
        for _ in range(STORMS - 1):
            # Storms measured for their rate only; their messages are dropped with their tables.
            fired, _ = storm(Sender(app.url, integration("bench"), SENDERS))
            out["fire_rates"].append(rate(fired))
            reset()
            purge_queue(env["REDIS_URL"])
            wait_idle(pids)
        if slack is not None:
            slack.log.clear()
        if pagerduty is not None:
            pagerduty.accepted.clear()
        token = integration("bench")
        roles = {"hooks": [app.processes[0].pid], "worker": [app.processes[1].pid],
                 "scheduler": [app.processes[2].pid], **({"contract servers": [contracts.pid]} if contracts else {})}
        with CpuMeter(roles) as meter:
            fired, resolved = storm(Sender(app.url, token, SENDERS))
        out["storm_cpu"] = meter.per(fired["webhooks"] + resolved["webhooks"])
        out["fired"] = fired
        out["fire_rates"].append(rate(fired))
        out["incidents"] = Incident.objects.filter(title__startswith="Storm").count()
        out["alerts"] = Alert.objects.filter(labels__alertname__startswith="Storm").count()
        if slack is not None:
            out["drain_fire"] = drain()
            out["calls_fire"] = calls_per_incident(slack)
        out["resolved"] = resolved
        out["auto_resolved"] = Incident.objects.filter(title__startswith="Storm", status="resolved").count()
        if slack is not None:
            out["drain_all"] = drain()
            out["calls_all"] = calls_per_incident(slack)
            out["other_calls"] = slack.other_calls()
        if pagerduty is not None:
            out["pagerduty"] = Counter(e["event_action"] for e in pagerduty.accepted)
        out["deliveries"] = delivery_counts()
        checkpoint(env["DATABASE_URL"])
        with CpuMeter(roles) as meter:
            out["single"] = single_posts(app.url, token, "One")
        out["single_cpu"] = meter.per(out["single"]["webhooks"])
        # The same posts again: each a repeat of its group's open incident, as most of what
        # Alertmanager sends is (group_interval, repeat_interval). Shown, not a target.
        out["repeats"] = single_posts(app.url, token, "One")
    return out


# --- report ------------------------------------------------------------------------------------


def mark(ok: bool) -> str:
    return "OK  " if ok else "MISS"


def main() -> None:
    started = time.perf_counter()
    db = bench_database_url(BENCH_DB)
    ensure_database(db)
    DATA.mkdir(parents=True, exist_ok=True)
    probe = limit_probe_path()
    with redis_url() as redis:
        setup_django(db, redis)
        cores = os.cpu_count() or 2
        print(f"Notifications benchmark: PostgreSQL {urlsplit(db).netloc}{urlsplit(db).path}, Redis "
              f"{urlsplit(redis).netloc}{urlsplit(redis).path} (queue {QUEUE}); bin/serve hooks (2 x 4 threads), "
              f"worker (2 processes), scheduler; {cores} cores, load average {os.getloadavg()[0]:.1f}")
        contracts = ContractProcess(DATA)
        slack, pagerduty = contracts.slack, contracts.pagerduty
        try:
            on = mode("on", child_env(db, redis, slack=slack, pagerduty=pagerduty), slack=slack,
                      pagerduty=pagerduty, with_latency=True, contracts=contracts)
            off = mode("off", child_env(db, redis, slack=None, pagerduty=None,
                                        settings_module="bench.notifications_off_settings"))
            preview = mode("preview", child_env(db, redis, slack=None, pagerduty=None))
        finally:
            contracts.close()
        floor_result = floor(probe, with_db(db, BENCH_DB + "_floor"), storms=STORMS) if probe else None

    lat = on["latency"]
    print(f"\n1. Webhook -> Slack root message, {LATENCY_INCIDENTS} incidents at {LATENCY_RATE:.0f}/s over "
          f"{LATENCY_CHANNELS} channels (Slack paces each channel to ~1 message/s):")
    print(f"   roots {lat['roots']}/{LATENCY_INCIDENTS}, answers {lat['answers']} | p50 "
          f"{percentile(lat['delays'], 50):.3f} s  p95 {percentile(lat['delays'], 95):.3f} s  "
          f"max {max(lat['delays'], default=float('nan')):.3f} s | {mark(percentile(lat['delays'], 95) < TARGET_P95_S)} "
          f"target p95 < {TARGET_P95_S:.0f} s")

    print(f"\n2. Storm: 10,000 alerts in 50 groups, {SENDERS} senders (fire: 4 growing flushes per group; resolve):")
    for label, result in (("on", on), ("off", off), ("preview", preview)):
        report(f"notifications {label}: fire", result["fired"])
    for label, result in (("on", on), ("off", off), ("preview", preview)):
        report(f"notifications {label}: resolve", result["resolved"])
    print(f"   storm with notifications on: {on['incidents']} incidents, {on['alerts']} alerts, "
          f"{on['auto_resolved']} auto-resolved")
    roots, per, methods = on["calls_fire"]
    drained = on["drain_fire"]
    drained_text = f"in {drained:.1f} s" if drained is not None else f"NOT within {DRAIN_SECONDS:.0f} s"
    print(f"   outbox drained {drained_text} after the fire phase; Slack chat calls {dict(methods)}")
    print(f"   {mark(roots == 50)} root messages: {roots} (target exactly 50)")
    print(f"   {mark(max(per, default=0) <= TARGET_CALLS)} Slack calls per incident during the storm (fire, "
          f"until drained): max {max(per, default=0)}, mean {sum(per) / max(len(per), 1):.2f} "
          f"(target <= {TARGET_CALLS})")
    roots_all, per_all, methods_all = on["calls_all"]
    print(f"   including the resolve storm: roots {roots_all}, calls per incident max {max(per_all, default=0)} "
          f"mean {sum(per_all) / max(len(per_all), 1):.2f}; other Slack calls {dict(on['other_calls'])}; "
          f"PagerDuty events {dict(on['pagerduty'])}")
    deliveries = on["deliveries"]
    unsent = {ch: {s: n for s, n in st.items() if s in ("pending", "failed", "dead")} for ch, st in deliveries.items()}
    lost = sum(n for st in unsent.values() for n in st.values())
    print(f"   {mark(lost == 0 and on['drain_all'] is not None)} no delivery lost: {deliveries} "
          f"(pending/failed/dead: {lost}; email is not configured, so its rows are previews)")
    print("        CPU per storm post (fire and resolve, 250 posts), by process, on the shared cores:")
    for label, result in (("on", on), ("off", off), ("preview", preview)):
        print(f"          {label:<7}: {breakdown(result['storm_cpu'])}")
    print(f"   fire rates of {STORMS} storms each: " + "; ".join(
        f"{label} {rates_text(result)}" for label, result in (("on", on), ("off", off), ("preview", preview))))
    for label, base in (("truly off", off), ("unconfigured (preview rows)", preview)):
        ratio = storm_rate(on) / storm_rate(base)
        print(f"   {mark(ratio >= TARGET_RATIO) if label == 'truly off' else '    '} ingestion on / {label}, medians: "
              f"{storm_rate(on):.0f} / {storm_rate(base):.0f} alerts/s = {ratio:.2f}x "
              f"(target >= {TARGET_RATIO}x against truly off)")

    print("\n3. Ingestion against the floor (limit_probe: two upserts per post, gunicorn 2 sync workers):")
    if floor_result is None:
        print("   limit_probe.py not found (../shared/bench/limit_probe.py beside the repo, or LIMIT_PROBE): skipped")
    else:
        print(f"   loaded from {probe} (not copied into the repo: its header grants no copy)")
        report("floor: storm fire", floor_result["fired"])
        report("floor: storm resolve", floor_result["resolved"])
        print(f"        CPU per storm post, floor: {breakdown(floor_result['fired']['cpu'])}")
        report("floor: single-alert posts", floor_result["single"])
        for label, result in (("on", on), ("off", off), ("preview", preview)):
            report(f"notifications {label}: single-alert posts", result["single"])
        print(f"   floor's fire rates: {rates_text(floor_result)}")
        for label, result in (("on", on), ("off", off), ("preview", preview)):
            storm_ratio = storm_rate(result) / storm_rate(floor_result)
            single_ratio = rate(result["single"]) / rate(floor_result["single"])
            print(f"   {mark(min(storm_ratio, single_ratio) >= TARGET_FLOOR) if label == 'on' else '    '} "
                  f"notifications {label:<7}: storm {storm_ratio:.2f}x (medians), single-alert posts {single_ratio:.2f}x "
                  f"of the floor (target >= {TARGET_FLOOR}x)")
        print("        CPU per single-alert post (each opens an incident), by process, on the shared cores:")
        print(f"          floor  : {breakdown(floor_result['single']['cpu'])}")
        for label, result in (("on", on), ("off", off), ("preview", preview)):
            print(f"          {label:<7}: {breakdown(result['single_cpu'])}")
        print("        (an incident opened: six rows, three messages rendered and a flush handed to the worker, "
              "which then sends them; the floor writes two rows: docs/architecture.md, \"Against the floor\")")
        report("floor: single-alert repeats", floor_result["repeats"])
        for label, result in (("on", on), ("off", off), ("preview", preview)):
            report(f"notifications {label}: single-alert repeats", result["repeats"])
        print("        single-alert repeats of open groups (not a target): " + ", ".join(
            f"{label} {rate(result['repeats']) / rate(floor_result['repeats']):.2f}x"
            for label, result in (("on", on), ("off", off), ("preview", preview))) + " of the floor's repeats")
    print(f"\nTotal benchmark time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
