"""Webhook latency while browsers poll a huge incident (``make bench``). Prints figures; never fails.

Starts the web process exactly as production does (``bin/serve web``: gunicorn, gthread workers,
OPSPORTAL_PROCESS=web) and the hooks pool (``bin/serve hooks``, which Alertmanager is given) on free
loopback ports with a temporary data folder, against the benchmark
PostgreSQL database of bench/alertmanager_ingest.py (whose helpers this script imports). Then:

1. an incident opened by a real webhook, grown by bulk inserts to 20,000 alerts and 20,000
   timeline events; a second incident with 20 alerts, to compare page sizes;
2. CLIENTS browser-like threads ("tabs") for DURATION seconds: each loads the incident page, then
   every POLL_PAUSE seconds polls every panel the page polls, with the versions the page carries
   (as htmx does; a real tab polls every 15 s, so each thread is ~15 tabs), and reloads the whole
   page every RELOAD seconds (someone coming back to it). The target figures come from this phase;
3. then the same clients reload the whole page on every round (RELOAD = POLL_PAUSE: ~20 full page
   loads a second, far beyond 20 people watching), printed for comparison, without a target;
4. meanwhile one sender posts Alertmanager webhooks at WEBHOOK_RATE per second to the real endpoint
   with a token from ``manage.py create_integration``: every fourth one carries 10 alerts of the
   huge incident's group (so its polls see changes), the others small groups of their own.

Targets (issue: browsers must never starve webhooks): webhook p99 < 250 ms, incident page p95 < 150 ms.
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from bench.alertmanager_ingest import (
    ROOT,
    alert,
    bench_database_url,
    body,
    ensure_database,
    free_port,
    percentile,
    reset_tables,
    setup_django,
    stop_server,
    wait_port,
)

ALERTS = 20_000
EVENTS = 20_000
SMALL_ALERTS = 20
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
DURATION = float(os.environ.get("BENCH_DURATION", "60"))  # ~230 page loads: a steadier p95
POLL_PAUSE = float(os.environ.get("BENCH_POLL_PAUSE", "1.0"))
RELOAD = float(os.environ.get("BENCH_RELOAD", "5.0"))
COMPARE = os.environ.get("BENCH_COMPARE", "1") != "0"  # 0: skip the reload-every-round phase
WEBHOOK_RATE = float(os.environ.get("BENCH_WEBHOOK_RATE", "10"))
TARGET_WEBHOOK_P99_MS = 250
TARGET_PAGE_P95_MS = 150
TARGET_PAGE_KB = 200
BIG, SMALL = "HugeIncident", "SmallIncident"
PASSWORD = "bench-password-9"


def create_token() -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("create_integration", "alertmanager", "bench-page-load", stdout=out)
    found = re.search(r"Token \(shown only this once\): (\S+)", out.getvalue())
    if not found:
        raise SystemExit(f"create_integration printed no token: {out.getvalue()}")
    return found.group(1)


def start_web(url: str, port: int, data_dir: Path, kind: str = "web") -> subprocess.Popen[bytes]:
    """``bin/serve web`` (or ``hooks``) as production runs it; only the port, data folder and database
    differ."""
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "HOOKS_PORT": str(port), "BIND_HOST": "127.0.0.1",
           "DEBUG": "false",
           "LOG_LEVEL": "WARNING", "OPSPORTAL_DATA_DIR": str(data_dir), "STATIC_ROOT": str(data_dir / "static"),
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # As a deployment does: pages name the hashed static files from the manifest.
    if kind == "web":
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                       check=True)
    process = subprocess.Popen([str(ROOT / "bin" / "serve"), kind], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(port, process, f"bin/serve {kind}", "/hooks/alertmanager")
    return process


def post(session: requests.Session, base: str, token: str, group: str, alerts: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    response = session.post(f"{base}/hooks/alertmanager", data=body(group, alerts), timeout=60,
                            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    if response.status_code != 200:
        raise SystemExit(f"webhook answered {response.status_code}: {response.text[:300]}")
    return time.perf_counter() - start


def grow_incident(group: str, alerts: int, events: int) -> int:
    """Bulk-insert alerts (same fingerprints as ``alert(group, i)``) and timeline events."""
    from incidents.integrations.alertmanager.models import Alert
    from incidents.models import EventKind, Incident, Source, TimelineEvent
    from opsportal.lib.bulk import insert_records

    incident = Incident.objects.get(title__startswith=group)
    existing = set(incident.alerts.values_list("fingerprint", flat=True))
    template = Alert.objects.filter(incident=incident).first()
    assert template is not None
    now = template.last_seen_at
    rows = []
    for i in range(alerts):
        a = alert(group, i, status="resolved" if i % 4 == 0 else "firing")
        if a["fingerprint"] in existing:
            continue
        rows.append({"integration_id": template.integration_id, "incident_id": incident.pk,
                     "maintenance_window_id": None, "fingerprint": a["fingerprint"], "status": a["status"],
                     "labels": a["labels"], "annotations": a["annotations"],
                     "starts_at": template.starts_at + timedelta(seconds=i), "ends_at": None,
                     "generator_url": a["generatorURL"], "first_seen_at": now, "last_seen_at": now,
                     "times_received": 1, "links": {}})
    insert_records(Alert, rows)
    first = incident.opened_at - timedelta(days=2)
    TimelineEvent.objects.bulk_create(
        [TimelineEvent(incident=incident, kind=EventKind.NOTE, source=Source.API,
                       message=f"Bench note {i}: checked node-{i}, still unwell.",
                       created_at=first + timedelta(seconds=i)) for i in range(events)],
        batch_size=2_000,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        # What autovacuum does after a bulk insert (autovacuum_vacuum_insert_threshold): the
        # visibility map the counts' index-only scans rely on, and fresh statistics.
        cursor.execute("VACUUM ANALYZE alertmanager_alert, incidents_timelineevent")
    return incident.pk


def login(base: str) -> dict[str, str]:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user_model.objects.filter(username="bench").delete()
    user_model.objects.create_user("bench", "bench@example.com", PASSWORD)
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=30).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert csrf is not None
    answer = session.post(f"{base}/accounts/login/", data={"username": "bench", "password": PASSWORD,
                                                            "csrfmiddlewaretoken": csrf.group(1)},
                          headers={"Referer": f"{base}/accounts/login/"}, timeout=30)
    if "sessionid" not in session.cookies:
        raise SystemExit(f"login failed: {answer.status_code}")
    return dict(session.cookies)


def poll_urls(html: str) -> dict[str, str]:
    """Every hx-get an element polls with (hx-trigger "every ..."), by the element's id."""
    found = {}
    for tag in re.finditer(r"<(?:section|div)\b[^>]*>", html):
        text = tag.group(0)
        ident, get = re.search(r'id="([^"]+)"', text), re.search(r'hx-get="([^"]+)"', text)
        if ident and get and 'hx-trigger="every' in text:
            found[ident.group(1)] = get.group(1).replace("&amp;", "&")
    return found


class Browser(threading.Thread):
    """One tab: loads the page, then polls every panel the page polls (with the versions it
    carries, taking the new ones from each redrawn fragment, as htmx swaps them in) every
    ``pause`` seconds, and reloads the whole page every ``reload`` seconds."""

    def __init__(self, base: str, cookies: dict[str, str], incident: int, stop: float, seed: int,
                 pause: float = POLL_PAUSE, reload: float = RELOAD):
        super().__init__(daemon=True)
        self.base, self.incident, self.stop = base, incident, stop
        self.pause, self.reload = pause, reload
        self.session = requests.Session()
        self.session.cookies.update(cookies)
        self.rng = random.Random(seed)
        self.page: list[float] = []
        self.polls: list[float] = []
        self.answers: dict[str, int] = {}
        self.errors: list[str] = []

    def run(self) -> None:
        time.sleep(self.rng.random() * max(self.pause, self.reload))  # tabs are not in step
        polls: dict[str, str] = {}
        loaded = float("-inf")
        while time.monotonic() < self.stop:
            try:
                if time.monotonic() - loaded >= self.reload - 1e-3:
                    loaded = time.monotonic()
                    start = time.perf_counter()
                    response = self.session.get(f"{self.base}/incidents/{self.incident}/", timeout=60)
                    self.page.append(time.perf_counter() - start)
                    self._count("page", response.status_code)
                    polls = poll_urls(response.text)
                    assert {"alerts-body", "timeline"} <= polls.keys(), sorted(polls)
                else:
                    for ident, url in list(polls.items()):
                        start = time.perf_counter()
                        answer = self.session.get(self.base + url, headers={"HX-Request": "true"}, timeout=60)
                        self.polls.append(time.perf_counter() - start)
                        self._count(f"poll {ident}", answer.status_code)
                        if answer.status_code == 200:
                            polls.update({k: v for k, v in poll_urls(answer.text).items() if k == ident})
            except (requests.RequestException, AssertionError) as exc:
                if len(self.errors) < 3:
                    self.errors.append(repr(exc)[:200])
            time.sleep(self.pause)

    def _count(self, kind: str, status: int) -> None:
        key = f"{kind} {status}"
        self.answers[key] = self.answers.get(key, 0) + 1


def send_webhooks(base: str, token: str, stop: float) -> list[float]:
    session = requests.Session()
    latencies: list[float] = []
    rng = random.Random(7)
    n = 0
    next_at = time.monotonic()
    while time.monotonic() < stop:
        if n % 4 == 0:
            picked = rng.sample(range(ALERTS), 10)
            latencies.append(post(session, base, token, BIG, [alert(BIG, i) for i in picked]))
        else:
            group = f"Side{n % 30:02d}"
            latencies.append(post(session, base, token, group, [alert(group, i) for i in range(5)]))
        n += 1
        next_at += 1 / WEBHOOK_RATE
        time.sleep(max(0.0, next_at - time.monotonic()))
    return latencies


def phase(base: str, hooks_base: str, token: str, cookies: dict[str, str], incident: int,
          reload: float) -> dict[str, Any]:
    """DURATION seconds of CLIENTS tabs on the incident while webhooks arrive at WEBHOOK_RATE."""
    stop = time.monotonic() + DURATION
    browsers = [Browser(base, cookies, incident, stop, seed, reload=reload) for seed in range(CLIENTS)]
    for browser in browsers:
        browser.start()
    webhooks = send_webhooks(hooks_base, token, stop)
    for browser in browsers:
        browser.join(timeout=120)
    answers: dict[str, int] = {}
    for b in browsers:
        for key, count in b.answers.items():
            answers[key] = answers.get(key, 0) + count
    return {"webhooks": webhooks, "pages": [v for b in browsers for v in b.page],
            "polls": [v for b in browsers for v in b.polls], "answers": answers,
            "errors": [e for b in browsers for e in b.errors]}


def report(result: dict[str, Any]) -> None:
    webhooks, pages, polls = result["webhooks"], result["pages"], result["polls"]
    print(f"  webhooks       {len(webhooks):5d}  p50 {ms(webhooks, 50)}  p95 {ms(webhooks, 95)}  "
          f"p99 {ms(webhooks, 99)}  max {max(webhooks) * 1000:7.1f} ms")
    print(f"  incident page  {len(pages):5d}  p50 {ms(pages, 50)}  p95 {ms(pages, 95)}")
    print(f"  panel polls    {len(polls):5d}  p50 {ms(polls, 50)}  p95 {ms(polls, 95)}  "
          f"answers {dict(sorted(result['answers'].items()))}")
    for error in result["errors"]:
        print(f"    ! {error}")


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:7.1f} ms"


def mark(ok: bool) -> str:
    return "OK" if ok else "MISS"


def main() -> None:
    started = time.perf_counter()
    url = bench_database_url()
    ensure_database(url)
    setup_django(url)
    reset_tables()
    token = create_token()
    data_dir = Path(tempfile.mkdtemp(prefix="opsp-bench-web-"))
    port, hooks_port = free_port(), free_port()
    server = start_web(url, port, data_dir)
    # Alertmanager posts to the hooks pool, as `make run` and docker-compose set it up.
    hooks_server = start_web(url, hooks_port, data_dir, "hooks")
    base, hooks_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hooks_port}"
    try:
        hooks = requests.Session()
        post(hooks, hooks_base, token, BIG, [alert(BIG, i) for i in range(10)])
        post(hooks, hooks_base, token, SMALL, [alert(SMALL, i) for i in range(SMALL_ALERTS)])
        t0 = time.perf_counter()
        big = grow_incident(BIG, ALERTS, EVENTS)
        from incidents.models import Incident

        small = Incident.objects.get(title__startswith=SMALL).pk
        print(f"Page load under webhooks: PostgreSQL, `bin/serve web` on 127.0.0.1:{port}, webhooks to "
              f"`bin/serve hooks` on 127.0.0.1:{hooks_port} "
              f"(gunicorn {os.environ.get('WEB_CONCURRENCY', str(min(2 * (os.cpu_count() or 1) + 1, 8)))} workers x "
              f"{os.environ.get('WEB_THREADS', '2')} "
              f"threads), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        print(f"  incident #{big}: {ALERTS:,} alerts and {EVENTS:,} timeline events bulk-inserted in "
              f"{time.perf_counter() - t0:.1f} s; incident #{small}: {SMALL_ALERTS} alerts")
        cookies = login(base)
        warm = requests.Session()
        warm.cookies.update(cookies)
        sizes = {}
        for name, pk in (("small", small), ("big", big)):
            for _ in range(3):
                html = warm.get(f"{base}/incidents/{pk}/", timeout=60).text
            sizes[name] = (len(html.encode()), len(warm.get(base + poll_urls(html)["alerts-body"].split("?")[0],
                                                             headers={"HX-Request": "true"}, timeout=60).content))
        print(f"  incident page: {sizes['small'][0] / 1024:.1f} KB with {SMALL_ALERTS} alerts, "
              f"{sizes['big'][0] / 1024:.1f} KB with {ALERTS:,} alerts and {EVENTS:,} events; alerts panel "
              f"{sizes['small'][1] / 1024:.1f} KB vs {sizes['big'][1] / 1024:.1f} KB")

        tabs = phase(base, hooks_base, token, cookies, big, RELOAD)
        print(f"\n{CLIENTS} tabs for {DURATION:.0f} s, each polling every panel the page polls every {POLL_PAUSE:.1f} s "
              f"(htmx: 15 s) and reloading the page every {RELOAD:.0f} s; webhooks at {WEBHOOK_RATE:.0f}/s:")
        report(tabs)
        if COMPARE:
            storm = phase(base, hooks_base, token, cookies, big, POLL_PAUSE)
            print(f"\nFor comparison, no target: the same {CLIENTS} clients reloading the whole page every round "
                  f"(every {POLL_PAUSE:.1f} s):")
            report(storm)
        webhooks, pages = tabs["webhooks"], tabs["pages"]
        print("\nTargets:")
        print(f"  webhook p99 < {TARGET_WEBHOOK_P99_MS} ms: {percentile(webhooks, 99) * 1000:.1f} ms "
              f"{mark(percentile(webhooks, 99) * 1000 < TARGET_WEBHOOK_P99_MS)}")
        print(f"  incident page p95 < {TARGET_PAGE_P95_MS} ms with {ALERTS:,} alerts: {percentile(pages, 95) * 1000:.1f} ms "
              f"{mark(percentile(pages, 95) * 1000 < TARGET_PAGE_P95_MS)}")
        # Bounded, not equal: 20 alerts show 20 rows, 20,000 show 50 (and 50 of 20,000 events).
        print(f"  incident page bounded (< {TARGET_PAGE_KB} KB with {ALERTS:,} alerts; 21 MB before): "
              f"{sizes['big'][0] / 1024:.1f} KB {mark(sizes['big'][0] < TARGET_PAGE_KB * 1024)}")
    finally:
        stop_server(server)
        stop_server(hooks_server)
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"\nTotal benchmark time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
