"""With a real Celery worker on PostgreSQL and Redis: steps advance through the database, and a
worker SIGKILLed mid-step leaves the step visibly failed by the reaper, never "running" forever
and never run twice. Two people approving at once: one wins."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Severity, Source
from opsportal.lib.exceptions import ConflictError
from runbooks import editing, runs, sweeps
from runbooks.models import RunbookRun, StepRun

from .conftest import SLOW_STEP, Target
from .worker import start_worker, stop, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_runs_the_steps_one_after_the_other(severities: dict[str, Severity], target: Target,
                                                        tmp_path: Path) -> None:
    book = editing.runbook_save(data={"name": "Checks", "steps": [
        {"title": f"Check {i}", "action": "http_check", "params": {"url": target.url + f"/ok/{i}"}}
        for i in range(3)]}, actor=None)
    incident = lifecycle.incident_open(title="x", severity=severities["P3"], source=Source.WEB)
    worker = start_worker(tmp_path)
    try:
        run = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
        wait_for(lambda: RunbookRun.objects.get(pk=run.pk).status == "succeeded", "the run to succeed", tmp_path)
    finally:
        stop(worker)
    assert [r["path"] for r in target.requests] == ["/ok/0", "/ok/1", "/ok/2"]
    assert all(s.attempts == 1 for s in StepRun.objects.filter(run=run))


def test_a_worker_keeps_its_database_connection_and_replaces_one_cut_between_tasks(
        severities: dict[str, Severity], target: Target, tmp_path: Path) -> None:
    book = editing.runbook_save(data={"name": "Check", "steps": [
        {"title": "Check", "action": "http_check", "params": {"url": target.url + "/ok"}}]}, actor=None)
    incident = lifecycle.incident_open(title="x", severity=severities["P3"], source=Source.WEB)
    worker = start_worker(tmp_path)
    try:
        first = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
        wait_for(lambda: RunbookRun.objects.get(pk=first.pk).status == "succeeded", "the first run", tmp_path)
        # The database restarting (or a pooler dropping the connection) between two tasks.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid()")
            cut = cursor.fetchall()
        assert cut, "the worker closed its connection after its task instead of keeping it"
        second = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
        wait_for(lambda: RunbookRun.objects.get(pk=second.pk).status == "succeeded", "the second run", tmp_path)
    finally:
        stop(worker)
    assert StepRun.objects.get(run=second).attempts == 1


def test_a_worker_killed_mid_step_leaves_the_step_failed_by_the_reaper_not_run_twice(
        severities: dict[str, Severity], tmp_path: Path, settings) -> None:
    settings.RUNBOOK_COMMANDS_ENABLED = True
    settings.RUNBOOK_COMMAND_ALLOWLIST = [SLOW_STEP]
    marker = tmp_path / "started"
    book = editing.runbook_save(data={"name": "Slow", "steps": [
        {"title": "Slow", "action": "command", "params": {"argv": [SLOW_STEP, str(marker)]}, "timeout_seconds": 30}]},
        actor=None)
    incident = lifecycle.incident_open(title="x", severity=severities["P3"], source=Source.WEB)
    worker = start_worker(tmp_path)
    try:
        run = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
        wait_for(marker.exists, "the step to start in the worker", tmp_path)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        marker.unlink()
        step = StepRun.objects.get(run=run)
        assert step.status == "running" and step.claimed_attempt == 1
        assert sweeps.runbook_reaper_sweep() == 0, "not before its deadline"
        # A fresh worker gets the unacknowledged task again only after the visibility timeout; were it
        # delivered at once, the claim would refuse it. Either way the step must not start again.
        worker = start_worker(tmp_path)
        time.sleep(3)
        assert not marker.exists(), "the killed attempt ran a second time"
        assert sweeps.runbook_reaper_sweep(now=timezone.now() + timedelta(minutes=5)) == 1
    finally:
        stop(worker)
    step.refresh_from_db()
    run.refresh_from_db()
    assert step.status == "failed" and "Attempt 1 was lost" in step.output
    assert step.attempt_log[0]["lost"] is True
    assert run.status == "failed"


def test_two_people_approving_at_once_one_wins(severities: dict[str, Severity], responder, other_responder) -> None:
    book = editing.runbook_save(data={"name": "Gate", "steps": [{"title": "Go?", "action": "approval"},
                                                                {"title": "Then", "action": "manual"}]}, actor=None)
    incident = lifecycle.incident_open(title="x", severity=severities["P3"], source=Source.WEB)
    run = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user) -> None:
        barrier.wait()
        try:
            runs.run_approve(run=run.pk, actor=user, source=Source.WEB, step_number=1)
            outcomes.append("won")
        except ConflictError as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (responder, other_responder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[-1] == "won" and outcomes.count("won") == 1
    assert "already approved by" in sorted(outcomes)[0]
    steps = list(StepRun.objects.filter(run=run).order_by("index"))
    assert steps[0].status == "succeeded" and steps[1].status == "waiting_approval"
