"""The runbook timers the scheduler runs (docs/architecture.md section 3): `wait` steps falling
due, and the reaper of steps whose worker died. Rows are claimed with SKIP LOCKED; the changes go
through ``runs``, which re-checks each step under its run's lock."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from opsportal.lib.claim import claim

from . import runs
from .actions import Result
from .models import Action, StepRun, StepStatus

# Steps handled per sweep; the rest wait for the next tick.
SWEEP_BATCH = 100


def runbook_waits_sweep(now: datetime | None = None) -> int:
    """Complete `wait` steps whose time has come. Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(claim(StepRun.objects.filter(status=StepStatus.RUNNING, action=Action.WAIT, due_at__lte=now)
                         .order_by("due_at")).values_list("pk", "attempts", "params")[:SWEEP_BATCH])
    done = 0
    for step_id, attempt, params in due:
        waited = (params or {}).get("seconds", 0)
        done += runs.step_finish(step_id=step_id, attempt=attempt,
                                 result=Result(ok=True, output=f"Waited {waited:g} s."))
    return done


def runbook_reaper_sweep(now: datetime | None = None) -> int:
    """Fail or retry steps still "running" past their deadline: the worker running them was killed
    (or their task never reached one). The lost attempt is recorded as such. Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(claim(StepRun.objects.filter(status=StepStatus.RUNNING, deadline_at__lt=now)
                           .exclude(action=Action.WAIT).order_by("deadline_at"))
                     .values_list("pk", "attempts", "claimed_attempt")[:SWEEP_BATCH])
    reaped = 0
    for step_id, attempt, claimed_attempt in stale:
        if claimed_attempt >= attempt:
            why = (f"Attempt {attempt} was lost: its worker stopped (killed or restarted) before the step "
                   "finished.")
        else:
            why = (f"Attempt {attempt} was never picked up by a worker (the broker or the workers were "
                   "unavailable).")
        reaped += runs.step_reap(step_id=step_id, attempt=attempt, why=why, now=now)
    return reaped
