"""What one render of the incident page costs, in-process (``make bench``). Prints figures; never fails.

bench/page_load.py measures the page over HTTP while 20 clients poll and webhooks arrive; on a
shared machine its latencies move with everyone else's load. This one renders the same incident
with Django's test client in this process, one request at a time, and counts what each answer
costs: wall and CPU milliseconds, SQL statements and their time, bytes. The incident is built as
page_load.py builds it (a real webhook, then 20,000 alerts and 20,000 timeline events bulk-inserted),
plus DELIVERIES outbox rows in every status, so every panel has rows to show.

Measured: the full page; each panel's poll with the version the page carries (nothing changed, so
204) and without it (a full fragment); a delivery's message preview. ``--profile`` prints the
functions the page render spends its time in (cProfile); ``--reuse`` renders the incident a
previous run built instead of building it again.

Targets: one page render <= 15 ms CPU and a fixed number of queries whatever the row counts; an
unchanged poll answers 204 with at most 2 queries besides the session and the user. The escalation
panel's version includes the minute (on-call rotations move who a pending level reaches).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench.alertmanager_ingest import (
    alert,
    bench_database_url,
    body,
    ensure_database,
    reset_tables,
    setup_django,
)
from bench.page_load import ALERTS, BIG, EVENTS, create_token, grow_incident, poll_urls

BENCH_DB = "opsp_bench_render"
DELIVERIES = 200
ROUNDS = 30
TARGET_PAGE_CPU_MS = 15
TARGET_POLL_QUERIES = 2


@dataclass
class Cost:
    status: int
    wall_ms: float
    cpu_ms: float
    queries: int
    sql_ms: float
    size: int
    calls: int = 0


def build_incident() -> int:
    """A webhook-opened incident grown to ALERTS alerts, EVENTS events and DELIVERIES deliveries."""
    from django.test import Client

    token = create_token()
    answer = Client().post("/hooks/alertmanager", data=body(BIG, [alert(BIG, i) for i in range(10)]),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    if answer.status_code != 200:
        raise SystemExit(f"webhook answered {answer.status_code}: {answer.content[:300]!r}")
    pk = grow_incident(BIG, ALERTS, EVENTS)
    add_deliveries(pk, DELIVERIES)
    return pk


def add_deliveries(pk: int, count: int) -> None:
    """``count`` outbox rows over three channels, in every status, with realistic message text."""
    from incidents.models import Incident
    from incidents.notifications.models import Conversation, Delivery

    incident = Incident.objects.get(pk=pk)
    statuses = ["sent", "sent", "sent", "failed", "dead", "pending", "preview"]
    channels = [("slack", "C0123ABCD"), ("pagerduty", "R0UT1NGKEY"), ("email", "oncall@example.com")]
    conversations = {
        name: Conversation.objects.get_or_create(incident=incident, channel=name, target=target)[0]
        for name, target in channels
    }
    start = incident.opened_at
    text = ("INCIDENT UPDATE - P1\n" + f"{incident.title}\n" + "Checked node-17, still unwell; "
            "restarting the pool and watching the error rate for ten minutes.\n" * 3)
    Delivery.objects.bulk_create([
        Delivery(conversation=conversations[channels[i % 3][0]], incident=incident, kind="note",
                 channel=channels[i % 3][0], target=channels[i % 3][1],
                 payload={"subject": f"[P1] {incident.title}", "text": text + f"(message {i})"},
                 status=statuses[i % len(statuses)], attempts=1 + i % 4,
                 last_error="Slack answered 500 Internal Server Error" if statuses[i % len(statuses)] in
                 ("failed", "dead") else "",
                 next_attempt_at=start + timedelta(hours=1) if statuses[i % len(statuses)] == "failed" else None,
                 created_at=start + timedelta(seconds=i), sent_at=start + timedelta(seconds=i + 1)
                 if statuses[i % len(statuses)] == "sent" else None)
        for i in range(count)
    ])


def measure(client: Any, url: str, *, htmx: bool = False) -> Cost:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HX-Request": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as queries:
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    sql = sum(float(q["time"]) for q in queries.captured_queries)
    return Cost(response.status_code, wall * 1000, cpu * 1000, len(queries), sql * 1000, len(response.content))


def python_calls(client: Any, url: str, *, htmx: bool = False) -> int:
    """Python function calls one request makes: unlike CPU time, the same on a busy machine."""
    headers = {"HX-Request": "true"} if htmx else {}
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url, headers=headers)
    profiler.disable()
    return sum(stat[1] for stat in pstats.Stats(profiler).stats.values())  # type: ignore[attr-defined]


def measured(client: Any, url: str, *, htmx: bool = False) -> list[Cost]:
    costs = [measure(client, url, htmx=htmx) for _ in range(ROUNDS)]
    costs[0].calls = python_calls(client, url, htmx=htmx)
    return costs


def summary(costs: list[Cost]) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    statuses = sorted({c.status for c in costs})
    cpu = [c.cpu_ms for c in costs]
    return (f"{'/'.join(map(str, statuses)):>7}  wall {med([c.wall_ms for c in costs]):6.1f} ms  "
            f"cpu {med(cpu):6.1f} ms (least {min(cpu):5.1f})  queries {max(c.queries for c in costs):3d}  "
            f"sql {med([c.sql_ms for c in costs]):5.1f} ms  {med([c.size for c in costs]) / 1024:6.1f} KB  "
            f"{costs[0].calls / 1000:6.1f}k calls")


def main() -> None:
    url = bench_database_url(BENCH_DB)
    ensure_database(url)
    static = tempfile.mkdtemp(prefix="opsp-bench-render-")
    os.environ["STATIC_ROOT"] = static  # pages name the hashed static files, as in production
    try:
        setup_django(url)
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
        run(url)
    finally:
        shutil.rmtree(static, ignore_errors=True)


def run(url: str) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from incidents.models import Incident

    t0 = time.perf_counter()
    existing = Incident.objects.filter(title__startswith=BIG).values_list("pk", flat=True).first()
    if "--reuse" in sys.argv and existing:
        pk, built = existing, "reused"
    else:
        reset_tables()
        pk, built = build_incident(), f"built in {time.perf_counter() - t0:.1f} s"
    print(f"Incident page render, in-process, PostgreSQL ({url.rsplit('/', 1)[-1]}); incident #{pk}: "
          f"{ALERTS:,} alerts, {EVENTS:,} timeline events, {DELIVERIES} deliveries ({built}); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    user, _ = get_user_model().objects.get_or_create(username="render-bench")
    client = Client()
    client.force_login(user)
    page = f"/incidents/{pk}/"
    for _ in range(3):
        html = client.get(page).content.decode()

    rows: list[tuple[str, list[Cost]]] = [("incident page", measured(client, page))]
    polls = poll_urls(html)
    for ident, poll in sorted(polls.items()):
        rows.append((f"poll #{ident} (unchanged)", measured(client, poll, htmx=True)))
        bare = re.sub(r"([?&])since=[^&]*&?", r"\1", poll).rstrip("?&")
        rows.append((f"poll #{ident} (full)", measured(client, bare, htmx=True)))
    preview = re.search(r'hx-get="(/notifications/deliveries/\d+/preview)"', html)
    if preview:
        rows.append(("delivery preview", measured(client, preview.group(1), htmx=True)))
    print(f"  median of {ROUNDS} requests each; CPU also the least (other processes share the cores); queries: "
          "the most any one made, two of them the session and the user; calls: Python function calls")
    for name, costs in rows:
        print(f"  {name:34s} {summary(costs)}")

    page_cpu = min(c.cpu_ms for c in rows[0][1])
    unchanged = [c for name, costs in rows if name.endswith("(unchanged)") for c in costs]
    print("\nTargets:")
    print(f"  page render <= {TARGET_PAGE_CPU_MS} ms CPU (least of {ROUNDS}): {page_cpu:.1f} ms "
          f"{'OK' if page_cpu <= TARGET_PAGE_CPU_MS else 'MISS'}")
    if unchanged:
        worst = max(c.queries for c in unchanged)
        codes = sorted({c.status for c in unchanged})
        print(f"  unchanged polls answer 204 with <= {TARGET_POLL_QUERIES} queries besides the session and user: "
              f"{codes}, at most {worst - 2} {'OK' if codes == [204] and worst - 2 <= TARGET_POLL_QUERIES else 'MISS'}")
    print(f"  polls found on the page: {json.dumps(sorted(polls))}")

    if "--profile" in sys.argv:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(ROUNDS):
            client.get(page)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())


if __name__ == "__main__":
    main()
