"""How runbook runs are worded on the timeline and in refusals: the step's number and title, who
acted, how long a step took, the first line of its output."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from opsportal.lib.actors import Actor

from .models import RunbookRun, StepRun


def nothing_to(run: RunbookRun, step: StepRun | None, verb: str) -> str:
    if run.is_finished:
        return f"Nothing to {verb}: the run is {run.get_status_display().lower()}."
    if step is None:
        return f"Nothing to {verb}: the run has no current step."
    return f"Nothing to {verb}: step {step.index + 1} “{step.title}” is {step.get_status_display().lower()}."


def step_label(step: StepRun) -> str:
    return f"{step.index + 1} “{step.title}”"


def actor_name(actor: Actor) -> str:
    return actor.get_username() if isinstance(actor, AbstractBaseUser) else "Opsportal"


def duration(step: StepRun) -> str:
    seconds = step.duration_seconds or 0.0
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def first_line(text: str) -> str:
    line = next((part for part in text.splitlines() if part.strip()), "")
    return (line[:300] + "…" if len(line) > 300 else line) + ("" if line.endswith(".") else ".")
