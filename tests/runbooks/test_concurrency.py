"""On PostgreSQL, what runs on many incidents at once does not queue behind other transactions: an
alert storm auto-starting one runbook in many webhook transactions, and the steps of runs on an
incident while another run starts on it. ``lock_timeout`` turns a wait for a lock into an error,
so a start or a step that would queue fails the test instead of hanging it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from incidents import lifecycle
from incidents.models import EventKind, Incident, Severity, Source
from runbooks import editing, runs, sweeps
from runbooks.models import Runbook, RunbookRun, StepRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@contextmanager
def held_open(work: Callable[[], object]) -> Iterator[None]:
    """Run ``work`` in a transaction in another thread and keep that transaction open (its locks
    held) until the block ends."""
    ready, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                work()
                ready.set()
                release.wait(60)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
            ready.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert ready.wait(60) and not errors, errors
        yield
    finally:
        release.set()
        thread.join()
    assert not errors, errors


@contextmanager
def never_waiting_for_a_lock() -> Iterator[None]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '5s'")
        yield


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return bool(cursor.fetchone()[0])


def incident(severities: dict[str, Severity]) -> Incident:
    return lifecycle.incident_open(title="Database down", severity=severities["P2"], source=Source.ALERTMANAGER)


def manual_runbook(name: str) -> Runbook:
    return editing.runbook_save(data={"name": name, "steps": [{"title": "Look", "action": "manual"}]}, actor=None)


def test_it_starts_one_runbook_on_many_incidents_without_waiting_for_the_other_starts(
        severities: dict[str, Severity]) -> None:
    book = manual_runbook("Database recovery")
    first, second = incident(severities), incident(severities)
    with held_open(lambda: runs.run_start(incident=first, runbook=book, actor=None, source=Source.RUNBOOK,
                                          auto=True)):
        with never_waiting_for_a_lock():
            runs.run_start(incident=second, runbook=book, actor=None, source=Source.RUNBOOK, auto=True)
    assert sorted(RunbookRun.objects.filter(runbook=book).values_list("incident_id", flat=True)) == sorted(
        [first.pk, second.pk])


def test_it_records_a_step_of_one_run_while_another_run_starts_on_the_same_incident(
        severities: dict[str, Severity]) -> None:
    target = incident(severities)
    waiting = editing.runbook_save(data={"name": "Wait", "steps": [
        {"title": "Settle", "action": "wait", "params": {"seconds": 1}}]}, actor=None)
    run = runs.run_start(incident=target, runbook=waiting, actor=None, source=Source.WEB)
    other = manual_runbook("Checklist")
    with held_open(lambda: runs.run_start(incident=target, runbook=other, actor=None, source=Source.WEB)):
        with never_waiting_for_a_lock():
            assert sweeps.runbook_waits_sweep(now=timezone.now() + timedelta(seconds=5)) == 1
    assert RunbookRun.objects.get(pk=run.pk).status == "succeeded"
    assert StepRun.objects.get(run=run).output == "Waited 1 s."
    assert target.events.filter(kind=EventKind.RUNBOOK, message__contains="Settle").exists()


def test_an_edit_of_the_runbook_waits_for_a_start_in_progress_which_keeps_the_steps_it_read(
        severities: dict[str, Severity]) -> None:
    book = manual_runbook("Database recovery")
    target = incident(severities)
    edited = threading.Event()

    def edit() -> None:
        try:
            editing.runbook_save(runbook=book, actor=None, data={"name": "Database recovery", "steps": [
                {"title": "Restart", "action": "manual"}, {"title": "Verify", "action": "manual"}]})
            edited.set()
        finally:
            connections.close_all()

    editor = threading.Thread(target=edit)
    with held_open(lambda: runs.run_start(incident=target, runbook=book, actor=None, source=Source.WEB)):
        editor.start()
        while not edited.is_set() and not waiting_for_a_lock():
            time.sleep(0.05)
        assert not edited.is_set(), "the edit went ahead of the start still reading the runbook"
    editor.join(60)
    assert edited.is_set()
    run = RunbookRun.objects.get(runbook=book)
    assert run.runbook_version == 1
    assert list(run.steps.order_by("index").values_list("title", flat=True)) == ["Look"]
    assert Runbook.objects.get(pk=book.pk).version == 2
