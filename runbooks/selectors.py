"""Reads of runbooks and runs for pages and the API (every signed-in user sees them, as incidents)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from incidents.models import Incident
from opsportal.lib import memo
from opsportal.lib.compiled import CompiledQuery

from .models import Runbook, RunbookRun, StepRun

User = AbstractBaseUser | AnonymousUser


def runbook_list_for_user(*, user: User) -> QuerySet[Runbook]:
    return Runbook.objects.prefetch_related("steps", "triggers").order_by("name")


def runbook_get_for_user(*, user: User, pk: int) -> Runbook:
    """Raises Runbook.DoesNotExist for unknown ids (callers answer 404)."""
    return Runbook.objects.prefetch_related("steps", "triggers").get(pk=pk)


def _steps() -> Prefetch[Any]:
    return Prefetch("steps", queryset=StepRun.objects.select_related("approved_by").order_by("index"))


def run_get_for_user(*, user: User, pk: int) -> RunbookRun:
    return RunbookRun.objects.select_related("incident", "incident__commander", "started_by").prefetch_related(
        _steps()).get(pk=pk)


def run_list_for_incident(*, user: User, incident: Incident) -> QuerySet[RunbookRun]:
    return _runs_of(incident).prefetch_related(_steps())


def _runs_of(incident: Incident | int) -> QuerySet[RunbookRun]:
    """An incident's runs, newest first, with who started them and the incident."""
    return RunbookRun.objects.filter(incident=incident).select_related("started_by", "incident").order_by(
        "-started_at", "-id")


def run_list_recent_for_incident(*, user: User, incident: Incident) -> list[RunbookRun]:
    """The incident's newest RECENT_RUNS runs with their steps (the incident page's panel): the
    runs' query compiled once per process (opsportal/lib/compiled.py), their steps in one more."""
    found = _RECENT_RUNS.objects(incident.pk)
    if found:
        prefetch_related_objects(found, _steps())
    return found


RECENT_RUNS = 10
_RECENT_RUNS = CompiledQuery(RunbookRun, lambda pk: _runs_of(pk)[:RECENT_RUNS], marker=-1)


def run_version_for_incident(*, incident: Incident | int, runs: list[RunbookRun] | None = None) -> str:
    """Changes whenever a run of the incident or one of its steps changes (the panel's 204 poll).
    ``runs``: every run of the incident, already read (no query then)."""
    rows = ([(r.pk, r.revision) for r in runs] if runs is not None
            else RunbookRun.objects.filter(incident=incident).values_list("pk", "revision"))
    return "-".join(f"{pk}.{rev}" for pk, rev in sorted(rows)) or "none"


def runbook_choices_for_user(*, user: User, limit: int = 200) -> list[tuple[int, str]]:
    """(pk, name) of runbooks by name, for the "Run a runbook" picker (kept like configuration:
    ``memo.config``, forgotten when a runbook is saved)."""
    return memo.config(("runbooks.choices", limit),
                       lambda: list(Runbook.objects.order_by("name").values_list("pk", "name")[:limit]))
