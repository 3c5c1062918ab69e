"""Runbook editor benchmark (``make bench``). Prints figures; never fails the run.

On PostgreSQL (``opsp_bench``, as the other benches), in process through Django's test client (the
whole middleware stack, no network): the editor page of a runbook of 3 steps and of 100 steps (the
most a runbook holds), its size and queries, and an htmx edit of the long one (a step moved: a
new version of all 100 steps, then the editor region rendered again).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench.alertmanager_ingest import bench_database_url, ensure_database, setup_django

ROUNDS = 30


def timed(call: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    """p50 and max in milliseconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    db_url = bench_database_url()
    ensure_database(db_url)
    setup_django(db_url)
    from django.conf import settings
    from django.test.utils import override_settings

    # Static URLs from the source folders (no collectstatic manifest), as in the tests.
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain):
        measure()


def measure() -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from runbooks import editing
    from runbooks.models import Runbook

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE runbooks_runbook, runbooks_runbookrun CASCADE")
    user, _ = User.objects.get_or_create(username="bench-editor")
    client = Client()
    client.force_login(user)

    def book(name: str, count: int) -> Runbook:
        return editing.runbook_save(data={"name": name, "steps": [
            {"title": f"Check {i}", "action": "http_check",
             "params": {"url": f"http://svc-{i}:8080/health", "expect_status": 200}} for i in range(count)]},
            actor=None)

    print("Runbook editor: PostgreSQL, Django test client in process")
    for count in (3, 100):
        runbook = book(f"Bench {count}", count)
        url = f"/runbooks/{runbook.pk}/"
        client.get(url)  # warm-up
        with CaptureQueriesContext(connection) as queries:
            size = len(client.get(url).content)
        statements = len(queries)  # read now: the next request clears the log
        p50, worst = timed(lambda url=url: client.get(url))  # type: ignore[misc]
        print(f"  editor page, {count:3d} steps: {size / 1024:.1f} KB, {statements} queries, "
              f"p50 {p50:.1f} ms, max {worst:.1f} ms")

    runbook = Runbook.objects.get(name="Bench 100")
    moves = {"up": 99}

    def move() -> None:
        version = Runbook.objects.values_list("version", flat=True).get(pk=runbook.pk)
        response = client.post(f"/runbooks/{runbook.pk}/steps/up", {"index": str(moves["up"]), "version": version},
                               headers={"HX-Request": "true"})
        assert response.status_code == 200, response.status_code
        moves["up"] = moves["up"] - 1 or 99

    with CaptureQueriesContext(connection) as queries:
        move()
    statements = len(queries)
    p50, worst = timed(move)
    print(f"  htmx move of a step in the 100-step runbook (new version + editor region): {statements} queries, "
          f"p50 {p50:.1f} ms, max {worst:.1f} ms")


if __name__ == "__main__":
    main()
