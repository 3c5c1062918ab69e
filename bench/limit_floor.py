"""The floor of ingestion: ../shared/bench/limit_probe.py (the least a Django view can do to store
an Alertmanager post: two upserts), found where it lies and never copied into the repo, driven with
the same storm and single-alert posts as the app (bench/notifications.py, section 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.alertmanager_ingest import (
    ROOT,
    SENDERS,
    Sender,
    ensure_database,
    free_port,
    single_posts,
    stop_server,
    storm,
    wait_port,
    warm,
)
from bench.cpu import CpuMeter


def limit_probe_path() -> Path | None:
    """../shared/bench/limit_probe.py beside the repo (or beside the main checkout of this worktree)."""
    explicit = os.environ.get("LIMIT_PROBE")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(ROOT.parent / "shared" / "bench" / "limit_probe.py")
    try:
        common = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        candidates.append(Path(common).parent.parent / "shared" / "bench" / "limit_probe.py")
    except (OSError, subprocess.CalledProcessError):
        pass
    return next((c.resolve() for c in candidates if c.is_file()), None)


def libpq_dsn(db: str) -> str:
    return urlunsplit(("postgresql", urlsplit(db).netloc, urlsplit(db).path, "", ""))


def checkpoint(db: str) -> None:
    """Write out what earlier phases left in PostgreSQL's buffers, so that a checkpoint they made
    due does not land in the next measurement; before each phase, the floor's and the app's (a
    superuser's right; skipped without it)."""
    import psycopg

    try:
        with psycopg.connect(libpq_dsn(db), autocommit=True) as conn:
            conn.execute("checkpoint")
    except psycopg.Error:
        pass


def floor(path: Path, db: str, *, storms: int = 1) -> dict[str, Any]:
    """The floor's storm (``storms`` times, fire rates in ``fire_rates``; the last one measured
    by process), then single-alert posts and their repeats."""
    import psycopg

    dsn = libpq_dsn(db)
    ensure_database(db)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("create table if not exists grp(id bigserial primary key, group_key text unique, "
                     "n int default 0)")
        conn.execute("create table if not exists alert(id bigserial primary key, group_id bigint references grp, "
                     "fingerprint text, status text, labels jsonb, unique(group_id, fingerprint))")
        conn.execute("truncate alert, grp")
    checkpoint(db)
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "--chdir", str(path.parent), "limit_probe:application", "-w", "2",
                                "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
                               env={**os.environ, "LIMIT_PROBE_DSN": dsn}, stdout=subprocess.DEVNULL)
    try:
        wait_port(port, process, "limit_probe", "/parse")
        url = f"http://127.0.0.1:{port}/store"
        warm(url, "-")
        rates = []
        for _ in range(storms - 1):  # measured for their rate only
            fired, _ = storm(Sender(url, "-", SENDERS))
            rates.append(fired["alerts"] / fired["wall"])
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("truncate alert, grp")
            checkpoint(db)
        with CpuMeter({"limit_probe": [process.pid]}) as meter:
            fired, resolved = storm(Sender(url, "-", SENDERS))
        fired["cpu"] = meter.per(fired["webhooks"] + resolved["webhooks"])
        rates.append(fired["alerts"] / fired["wall"])
        checkpoint(db)
        with CpuMeter({"limit_probe": [process.pid]}) as meter:
            single = single_posts(url, "-", "One")
        single["cpu"] = meter.per(single["webhooks"])
        repeats = single_posts(url, "-", "One")
    finally:
        stop_server(process)
    return {"fired": fired, "resolved": resolved, "single": single, "repeats": repeats, "fire_rates": rates}
