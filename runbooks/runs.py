"""Running a runbook on an incident: the only writer of RunbookRun and StepRun (docs/runbooks.md).

The run advances through the database. Each automated step attempt is recorded (``attempts``,
``attempt_log``, a ``deadline_at``) in the transaction that hands it to a worker, and the Celery
task is sent when that transaction commits; the worker runs attempt N only after claiming it
(``claimed_attempt``), so a task delivered twice (late acks after a killed worker) runs once.
Whatever the outcome, ``step_finish`` records it and starts the next step in the same transaction.
Nothing waits in memory: ``wait`` steps are a due time the scheduler's sweep completes, and the
reaper sweep fails or retries a step still "running" past its deadline (its worker was killed, or
its task never arrived), with the lost attempt recorded.

Lock order everywhere: the run, then its steps, so a person's click, a worker's result and the
sweeps serialise on the run row and never deadlock. Timeline events go through
``incidents.lifecycle.record_event`` (kind "runbook"), so the outbox posts them to the incident's
channels.
"""

from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from incidents import lifecycle
from incidents.models import EventKind, Incident, Source, Status
from opsportal.lib.actors import Actor, stored_user
from opsportal.lib.exceptions import ApplicationError, ConflictError, NotFoundError

from . import actions, wording
from .actions import Result, RunContext
from .models import (
    Action,
    OnFailure,
    Runbook,
    RunbookRun,
    RunStatus,
    StepRun,
    StepStatus,
    bound_output,
)

log = logging.getLogger(__name__)
STEP_TASK = "runbooks.tasks.runbook_step_task"
WAITING_ACTIONS = (Action.APPROVAL, Action.MANUAL)
# Seconds a worker may take beyond the step's own timeout before Celery interrupts it (soft), kills
# it (hard); the reaper's grace (RUNBOOK_REAPER_GRACE_SECONDS) comes after both.
SOFT_MARGIN = 5
HARD_MARGIN = 15
EVENT_TEXT_MAX = 500


class NotAllowed(ApplicationError):
    status_code = 403
    code = "forbidden"


# --- who may act ---------------------------------------------------------------------------


def can_operate(user: Actor, run: RunbookRun) -> bool:
    """Approve, retry, skip, cancel: staff, or the incident's commander, or any active user while
    the incident has no commander (docs/runbooks.md, "Who may act")."""
    if not isinstance(user, AbstractBaseUser) or not user.is_active:
        return False
    if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
        return True
    commander_id = run.incident.commander_id
    return commander_id is None or commander_id == user.pk


def _check_operator(user: Actor, run: RunbookRun, verb: str) -> None:
    if not can_operate(user, run):
        commander = run.incident.commander
        raise NotAllowed(
            f"Only the incident commander ({commander.get_username() if commander else 'none'}) or staff may "
            f"{verb} steps of this run.",
        )


# --- starting ------------------------------------------------------------------------------


@transaction.atomic
def run_start(*, incident: Incident | int, runbook: Runbook | int, actor: Actor, source: str,
              auto: bool = False) -> RunbookRun:
    """Attach ``runbook`` to ``incident`` and start it: its steps as they are now become the run's
    steps (later edits of the runbook never change this run)."""
    incident_pk = incident.pk if isinstance(incident, Incident) else incident
    try:
        # FOR NO KEY UPDATE: it waits for (and holds off) a close, but not the inserts of timeline
        # events and deliveries by the incident's other runs, whose foreign-key checks it would block.
        locked = Incident.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "severity", "service", "commander").get(pk=incident_pk)
    except Incident.DoesNotExist:
        raise NotFoundError(f"Incident #{incident_pk} does not exist.") from None
    if locked.status == Status.CLOSED:
        raise ConflictError(f"Incident #{locked.pk} is closed; runbooks cannot start on it.", code="incident_closed")
    runbook_pk = runbook.pk if isinstance(runbook, Runbook) else runbook
    book = _shared(runbook_pk)
    if book is None:
        raise ApplicationError(f"Runbook {runbook_pk} does not exist.", extra={"field": "runbook"})
    steps = list(book.steps.order_by("order"))
    if not steps:
        raise ApplicationError(f"Runbook “{book.name}” has no steps.", extra={"field": "runbook"})
    now = timezone.now()
    run = RunbookRun.objects.create(
        incident=locked, runbook=book, runbook_name=book.name, runbook_version=book.version,
        started_by=stored_user(actor), auto_started=auto, started_at=now,
    )
    created = StepRun.objects.bulk_create([
        StepRun(run=run, index=i, title=s.title, action=s.action, params=s.params, timeout_seconds=s.timeout_seconds,
                retries=s.retries, on_failure=s.on_failure, needs_approval=s.needs_approval)
        for i, s in enumerate(steps)
    ])
    who = "automatically (trigger)" if auto else f"by {wording.actor_name(actor)}"
    _event(run, f"Runbook “{book.name}” v{book.version} started {who}: {len(steps)} steps.",
           actor=actor, source=source, data={"status": "started"})
    # The steps were just inserted: no one else sees them yet (when the database returned their ids).
    _advance(run, now=now, locked={s.index: s for s in created} if created[0].pk is not None else None)
    return run


def _shared(runbook_pk: int) -> Runbook | None:
    """The runbook, share-locked on PostgreSQL until the transaction ends: an edit (which replaces
    the steps under FOR UPDATE) or a delete waits for this start and this start for them, while
    starts of the same runbook on other incidents (an alert storm auto-starting it in many
    webhook transactions) do not queue behind each other. SQLite has one writer at a time."""
    if connection.vendor != "postgresql":
        return Runbook.objects.filter(pk=runbook_pk).first()
    table = connection.ops.quote_name(Runbook._meta.db_table)
    return next(iter(Runbook.objects.raw(f"SELECT * FROM {table} WHERE id = %s FOR SHARE", [runbook_pk])), None)


# --- a person's actions on the current step ------------------------------------------------


@transaction.atomic
def run_approve(*, run: RunbookRun | int, actor: Actor, source: str, step_number: int | None = None) -> RunbookRun:
    """Approve the step waiting for a person (an approval gate, a manual step done, or an automated
    step that needs approval, which then starts). Two people at once: the run row serialises them;
    the second gets 409 naming who approved. ``step_number`` (1-based, what the person saw; the
    page always sends it) keeps a second click from approving the *next* waiting step."""
    run = _locked(run)
    _check_operator(actor, run, "approve")
    step = _current(run)
    if step is not None and step_number is not None and step_number != step.index + 1:
        step = StepRun.objects.select_related("approved_by").filter(run=run, index=step_number - 1).first()
        if step is None:
            raise ConflictError(f"The run has no step {step_number}.", code="not_waiting")
    if step is None or step.status != StepStatus.WAITING_APPROVAL or step.index != run.current_index:
        # The click that lost the race (or a second click) is told who approved, and when.
        upto = step.index if step is not None and step_number is not None else run.current_index
        last = StepRun.objects.filter(run=run, approved_by__isnull=False, index__lte=upto).select_related(
            "approved_by").order_by("-index").first()
        if last is not None and last.approved_by is not None and last.approved_at is not None:
            raise ConflictError(
                f"Step {wording.step_label(last)} was already approved by {last.approved_by.get_username()} at "
                f"{timezone.localtime(last.approved_at).strftime('%H:%M:%S')}.", code="already_approved")
        raise ConflictError(wording.nothing_to(run, step, "approve"), code="not_waiting")
    now = timezone.now()
    step.approved_by = stored_user(actor)
    step.approved_at = now
    step.save(update_fields=["approved_by", "approved_at"])
    if step.action in WAITING_ACTIONS:
        verb = "done" if step.action == Action.MANUAL else "approved"
        _finish(run, step, Result(ok=True, output=f"Marked {verb} by {wording.actor_name(actor)}."), now=now,
                actor=actor, source=source)
    else:
        _event(run, f"Step {wording.step_label(step)} approved by {wording.actor_name(actor)}; starting.",
               actor=actor, source=source, data={"step": step.index + 1, "status": "approved"})
        run.status = RunStatus.RUNNING
        _dispatch(run, step, now=now)
    return run


@transaction.atomic
def run_retry(*, run: RunbookRun | int, actor: Actor, source: str) -> RunbookRun:
    """Run the failed current step again (a new round of its automatic retries)."""
    run = _locked(run)
    _check_operator(actor, run, "retry")
    step = _current(run)
    if run.status != RunStatus.FAILED or step is None or step.status != StepStatus.FAILED:
        raise ConflictError(wording.nothing_to(run, step, "retry"), code="not_failed")
    now = timezone.now()
    run.status = RunStatus.RUNNING
    run.finished_at = None
    step.round_base = step.attempts
    _event(run, f"Step {wording.step_label(step)} retried by {wording.actor_name(actor)}.", actor=actor, source=source,
           data={"step": step.index + 1, "status": "retried"})
    _begin(run, step, now=now)
    return run


@transaction.atomic
def run_skip(*, run: RunbookRun | int, actor: Actor, source: str) -> RunbookRun:
    """Skip the current step (failed, or waiting for a person) and go on with the next."""
    run = _locked(run)
    _check_operator(actor, run, "skip")
    step = _current(run)
    if run.is_finished or step is None or step.status not in (StepStatus.FAILED, StepStatus.WAITING_APPROVAL):
        raise ConflictError(wording.nothing_to(run, step, "skip"), code="not_skippable")
    now = timezone.now()
    step.status = StepStatus.SKIPPED
    step.finished_at = now
    step.deadline_at = None
    step.save(update_fields=["status", "finished_at", "deadline_at"])
    _event(run, f"Step {wording.step_label(step)} skipped by {wording.actor_name(actor)}.", actor=actor, source=source,
           data={"step": step.index + 1, "status": "skipped"})
    run.status = RunStatus.RUNNING
    run.finished_at = None
    run.current_index += 1
    _advance(run, now=now)
    return run


@transaction.atomic
def run_cancel(*, run: RunbookRun | int, actor: Actor, source: str) -> RunbookRun:
    """Stop the run; a step running in a worker finishes there but its result is discarded."""
    run = _locked(run)
    _check_operator(actor, run, "cancel")
    if run.is_finished:
        raise ConflictError(f"The run is already {run.get_status_display().lower()}.", code="finished")
    now = timezone.now()
    StepRun.objects.filter(run=run, status__in=(StepStatus.PENDING, StepStatus.WAITING_APPROVAL,
                                                  StepStatus.RUNNING)).update(
        status=StepStatus.CANCELLED, finished_at=now, deadline_at=None, due_at=None)
    run.status = RunStatus.CANCELLED
    run.finished_at = now
    _save(run)
    _event(run, f"Runbook “{run.runbook_name}” cancelled by {wording.actor_name(actor)}.", actor=actor, source=source,
           data={"status": "cancelled"})
    return run


# --- the worker's side ---------------------------------------------------------------------


def step_execute(step_id: int, attempt: int) -> bool:
    """Run attempt ``attempt`` of a step (the Celery task calls this). Returns False when the
    attempt is not this call's to run: already claimed (a redelivered task), superseded, cancelled.
    The action runs outside any transaction; its result is recorded by :func:`step_finish`."""
    now = timezone.now()
    step = StepRun.objects.filter(pk=step_id).select_related("run__incident__severity").order_by().first()
    if step is None:
        return False
    # The claim: one conditional UPDATE. It changes nothing the run panel shows (the step is
    # "running" from its dispatch), so the run's revision stays.
    claimed = StepRun.objects.filter(
        pk=step_id, status=StepStatus.RUNNING, attempts=attempt, claimed_attempt__lt=attempt,
    ).update(claimed_attempt=attempt, started_at=now,
             deadline_at=now + timedelta(seconds=step.timeout_seconds + HARD_MARGIN
                                         + settings.RUNBOOK_REAPER_GRACE_SECONDS))
    if not claimed:
        log.info("runbook step attempt not claimed (done, superseded or already running)",
                 extra={"step": step_id, "attempt": attempt})
        return False
    module = actions.get(step.action)
    try:
        result: Result = module.run(step.params, run_context(step.run.incident), timeout=float(
            step.params.get("timeout") or step.timeout_seconds))
    except SoftTimeLimitExceeded:
        result = Result(ok=False, output=f"Interrupted: the step ran past its time limit ({step.timeout_seconds} s).")
    except Exception as exc:  # noqa: BLE001 - a bug in an action fails the step visibly, never silently
        log.exception("runbook action %s failed", step.action)
        result = Result(ok=False, output=f"The action failed unexpectedly: {type(exc).__name__}: {exc}\n"
                                         + "".join(traceback.format_exception_only(exc))[-500:])
    step_finish(step_id=step_id, attempt=attempt, result=result, run_id=step.run_id)
    return True


@transaction.atomic
def step_finish(*, step_id: int, attempt: int, result: Result, run_id: int | None = None) -> bool:
    """Record attempt ``attempt``'s result and start what comes next. A result for an attempt that
    is no longer the step's current running one (the run was cancelled, the reaper gave up on it)
    is discarded: returns False. ``run_id``: the step's run, when the caller knows it."""
    run_id = run_id or _run_id_of(step_id)
    if run_id is None:
        return False
    run = _locked(run_id)
    # A running step is the run's current one: it and the next (which starts if it succeeds) in one query.
    locked = {s.index: s for s in StepRun.objects.select_for_update(of=("self",)).filter(
        run=run, index__in=(run.current_index, run.current_index + 1)).order_by()}
    step = locked.get(run.current_index)
    if (step is None or step.pk != step_id or step.status != StepStatus.RUNNING or step.attempts != attempt
            or run.status != RunStatus.RUNNING):
        log.info("runbook step result discarded", extra={
            "step": step_id, "attempt": attempt, "status": step.status if step is not None else "not current"})
        return False
    _finish(run, step, result, now=timezone.now(), actor=None, source=Source.RUNBOOK, locked=locked)
    return True


# --- the scheduler's side (runbooks.sweeps finds the steps) -----------------------------------


@transaction.atomic
def step_reap(*, step_id: int, attempt: int, why: str, now: datetime) -> bool:
    """Record that ``attempt`` of a step still "running" past its deadline was lost; False when
    the step moved on meanwhile (finished, retried, or its deadline extended)."""
    run_id = _run_id_of(step_id)
    if run_id is None:
        return False
    run = _locked(run_id)
    step = StepRun.objects.select_for_update().get(pk=step_id)
    if (step.status != StepStatus.RUNNING or step.attempts != attempt or step.deadline_at is None
            or step.deadline_at >= now):
        return False
    _finish(run, step, Result(ok=False, output=why, data={"lost": True}), now=now, actor=None,
            source=Source.RUNBOOK)
    return True


# --- internals -----------------------------------------------------------------------------


def _run_id_of(step_id: int) -> int | None:
    return StepRun.objects.filter(pk=step_id).order_by().values_list("run_id", flat=True).first()


def _locked(run: RunbookRun | int) -> RunbookRun:
    """The run, locked; with the incident the timeline event and its messages describe."""
    pk = run.pk if isinstance(run, RunbookRun) else run
    try:
        return RunbookRun.objects.select_for_update(of=("self",)).select_related(
            "incident__commander", "incident__severity", "incident__service").get(pk=pk)
    except RunbookRun.DoesNotExist:
        raise NotFoundError(f"Runbook run {pk} does not exist.") from None


def _current(run: RunbookRun) -> StepRun | None:
    # order_by(): the (run, index) pair is unique; the model's ordering would join the run's table.
    return StepRun.objects.select_for_update(of=("self",)).select_related("approved_by").filter(
        run=run, index=run.current_index).order_by().first()


def _save(run: RunbookRun) -> None:
    run.revision += 1
    run.save(update_fields=["status", "current_index", "finished_at", "revision"])


def _advance(run: RunbookRun, *, now: datetime, locked: dict[int, StepRun] | None = None) -> None:
    """Start the step at ``run.current_index``, or finish the run when there is none. ``locked``:
    the run's steps the caller holds, by index, when they include that index's."""
    step = locked.get(run.current_index) if locked is not None else _current(run)
    if step is None:
        failed = StepRun.objects.filter(run=run, status=StepStatus.FAILED).count()
        run.status = RunStatus.SUCCEEDED
        run.finished_at = now
        _save(run)
        tail = f" ({failed} failed step{'s' if failed != 1 else ''} continued past)" if failed else ""
        _event(run, f"Runbook “{run.runbook_name}” finished: succeeded{tail}.", actor=None, source=Source.RUNBOOK,
               data={"status": "succeeded"})
        return
    _begin(run, step, now=now)


def _begin(run: RunbookRun, step: StepRun, *, now: datetime) -> None:
    if step.action in WAITING_ACTIONS or (step.needs_approval and step.approved_by_id is None):
        step.status = StepStatus.WAITING_APPROVAL
        step.started_at = step.started_at or now
        step.save(update_fields=["status", "started_at"])
        run.status = RunStatus.WAITING_APPROVAL
        _save(run)
        what = {"manual": "waits for a person to do it and mark it done"}.get(step.action, "waits for approval")
        instructions = step.params.get("instructions", "")
        _event(run, f"Step {wording.step_label(step)} {what}." + (f" {instructions}" if instructions else ""),
               actor=None, source=Source.RUNBOOK, data={"step": step.index + 1, "status": "waiting_approval"})
        return
    run.status = RunStatus.RUNNING
    if step.action == Action.WAIT:
        seconds = float(step.params.get("seconds", 0))
        step.status = StepStatus.RUNNING
        step.attempts += 1
        step.claimed_attempt = step.attempts
        step.attempt_log = [*step.attempt_log, {"attempt": step.attempts, "at": now.isoformat(), "by": "scheduler"}]
        step.started_at = now
        step.due_at = now + timedelta(seconds=seconds)
        step.deadline_at = None
        step.save(update_fields=["status", "attempts", "claimed_attempt", "attempt_log", "started_at", "due_at",
                                 "deadline_at"])
        _save(run)
        return
    _dispatch(run, step, now=now)


def _dispatch(run: RunbookRun, step: StepRun, *, now: datetime) -> None:
    """Record a new attempt and hand it to a worker when the transaction commits."""
    step.status = StepStatus.RUNNING
    step.attempts += 1
    step.attempt_log = [*step.attempt_log, {"attempt": step.attempts, "queued_at": now.isoformat()}]
    step.started_at = None
    step.finished_at = None
    step.deadline_at = now + timedelta(seconds=step.timeout_seconds + HARD_MARGIN
                                       + settings.RUNBOOK_QUEUE_GRACE_SECONDS)
    step.save(update_fields=["status", "attempts", "attempt_log", "started_at", "finished_at", "deadline_at",
                             "round_base"])
    _save(run)
    step_id, attempt, timeout = step.pk, step.attempts, step.timeout_seconds
    transaction.on_commit(lambda: _enqueue(step_id, attempt, timeout))


def _enqueue(step_id: int, attempt: int, timeout: int) -> None:
    try:
        current_app.send_task(STEP_TASK, args=[step_id, attempt], soft_time_limit=timeout + SOFT_MARGIN,
                              time_limit=timeout + HARD_MARGIN)
    except Exception:  # noqa: BLE001 - a broker failure: the reaper re-sends it after RUNBOOK_QUEUE_GRACE_SECONDS
        log.warning("could not enqueue a runbook step; the reaper will retry it", extra={"step": step_id})


def _finish(run: RunbookRun, step: StepRun, result: Result, *, now: datetime, actor: Actor, source: str,
            locked: dict[int, StepRun] | None = None) -> None:
    """Record ``result`` on the running (or waiting) step, then retry it, go on, or stop the run.
    ``locked``: the steps the caller holds, by index, if they include the next one (see _advance)."""
    step.output = bound_output(result.output)
    step.result = {**result.data, "ok": result.ok}
    step.finished_at = now
    step.deadline_at = None
    step.due_at = None
    log_entry = {**(step.attempt_log[-1] if step.attempt_log else {"attempt": step.attempts}),
                 "finished_at": now.isoformat(), "ok": result.ok}
    if result.data.get("lost"):
        log_entry["lost"] = True
    step.attempt_log = [*step.attempt_log[:-1], log_entry] if step.attempt_log else [log_entry]
    duration = f" in {wording.duration(step)}" if step.started_at else ""
    first_line = wording.first_line(step.output)
    if result.ok:
        step.status = StepStatus.SUCCEEDED
        step.save()
        message = result.announce or f"Step {wording.step_label(step)} succeeded{duration}: {first_line}"
        _event(run, message, actor=actor, source=source,
               data={"step": step.index + 1, "status": "succeeded", "notify": bool(result.announce)})
        run.current_index += 1
        _advance(run, now=now, locked=locked)
        return
    budget = step.retries + 1
    used = step.attempts - step.round_base
    if used < budget:
        step.save()
        _event(run, f"Step {wording.step_label(step)} attempt {step.attempts} failed{duration}: {first_line} Retrying "
                    f"({used + 1} of {budget}).", actor=actor, source=source,
               data={"step": step.index + 1, "status": "retrying"})
        _dispatch(run, step, now=now)
        return
    step.status = StepStatus.FAILED
    step.save()
    if step.on_failure == OnFailure.CONTINUE:
        _event(run, f"Step {wording.step_label(step)} failed{duration}: {first_line} Continuing.",
               actor=actor, source=source, data={"step": step.index + 1, "status": "failed"})
        run.current_index += 1
        _advance(run, now=now, locked=locked)
        return
    run.status = RunStatus.FAILED
    run.finished_at = now
    _save(run)
    _event(run, f"Step {wording.step_label(step)} failed{duration}: {first_line} The run stopped: retry or skip "
           "the step.", actor=actor, source=source, data={"step": step.index + 1, "status": "failed"})


def _event(run: RunbookRun, message: str, *, actor: Actor, source: str, data: dict[str, Any]) -> None:
    if len(message) > EVENT_TEXT_MAX:
        message = message[: EVENT_TEXT_MAX - 1] + "…"
    lifecycle.record_event(run.incident, EventKind.RUNBOOK, actor=actor, source=source, message=message,
                           data={"run": run.pk, "runbook": run.runbook_name, **data})


def run_context(incident: Incident) -> RunContext:
    """What parameter templates see: the incident's labels and a few plain fields."""
    return RunContext(
        labels=dict(incident.labels or {}),
        annotations={},
        incident={
            "id": incident.pk, "key": incident.key, "title": incident.title, "status": incident.status,
            "severity": incident.severity.name if incident.severity_id else "",
            "url": settings.PUBLIC_URL + reverse("incidents:detail", args=[incident.pk]),
        },
    )
