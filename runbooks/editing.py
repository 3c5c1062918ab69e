"""Creating and editing runbooks: every entry point (API, editor, admin, YAML import) validates
through :func:`runbook_validate`, whose errors name the step and the field
(``steps[0].params.url``), and saves through :func:`runbook_save`. Each edit raises the version;
running runs keep the steps they copied when they started. The editor's one-step edits (save,
remove, move a step; rename) are :func:`runbook_step_save` and its neighbours: each rewrites the
whole runbook through :func:`runbook_save`, so a step typed in the form passes the same checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from incidents.models import Severity
from opsportal.lib.actors import Actor, stored_user
from opsportal.lib.exceptions import ApplicationError, ConflictError
from opsportal.lib.matchers import matchers_parse, matchers_validate

from . import actions
from .actions import ParamError
from .models import DESCRIPTION_MAX, NAME_MAX, STEPS_MAX, TITLE_MAX, OnFailure, Runbook, Step, Trigger

STEP_KEYS = {"title", "action", "params", "timeout_seconds", "retries", "on_failure", "needs_approval"}
TRIGGER_KEYS = {"matchers", "severities", "auto_start"}
TIMEOUT_MAX = 3_600
RETRIES_MAX = 10
TRIGGERS_MAX = 20


@dataclass
class CleanRunbook:
    name: str
    description: str
    steps: list[dict[str, Any]]
    triggers: list[dict[str, Any]]


def _invalid(field: str, message: str, step: int | None = None) -> ApplicationError:
    extra: dict[str, Any] = {"field": field}
    if step is not None:
        extra["step"] = step
    return ApplicationError(message, code="invalid", extra=extra)


def runbook_validate(data: Any) -> CleanRunbook:
    """Check a whole runbook (name, description, steps, triggers); ApplicationError names the field."""
    if not isinstance(data, dict):
        raise _invalid("body", "A runbook is an object with name and steps.")
    unknown = sorted(set(data) - {"name", "description", "steps", "triggers"})
    if unknown:
        raise _invalid(unknown[0], f"Unknown field “{unknown[0]}”.")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _invalid("name", "name is required.")
    if len(name) > NAME_MAX:
        raise _invalid("name", f"name is longer than {NAME_MAX} characters.")
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
        raise _invalid("description", f"description must be text of at most {DESCRIPTION_MAX} characters.")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise _invalid("steps", "steps must be a non-empty list.")
    if len(raw_steps) > STEPS_MAX:
        raise _invalid("steps", f"A runbook has at most {STEPS_MAX} steps.")
    steps = [step_validate(raw, i) for i, raw in enumerate(raw_steps)]
    raw_triggers = data.get("triggers") or []
    if not isinstance(raw_triggers, list) or len(raw_triggers) > TRIGGERS_MAX:
        raise _invalid("triggers", f"triggers must be a list of at most {TRIGGERS_MAX}.")
    triggers = [trigger_validate(raw, i) for i, raw in enumerate(raw_triggers)]
    return CleanRunbook(name.strip(), description, steps, triggers)


def step_validate(raw: Any, index: int) -> dict[str, Any]:
    """One step; the error names it: ``Step 1 “Health”: url: ...`` and ``steps[0].params.url``."""
    where = f"steps[{index}]"
    if not isinstance(raw, dict):
        raise _invalid(where, f"Step {index + 1} must be an object with title and action.", index + 1)
    title = raw.get("title")
    label = f"Step {index + 1}" + (f" “{title}”" if isinstance(title, str) and title.strip() else "")
    unknown = sorted(set(raw) - STEP_KEYS)
    if unknown:
        raise _invalid(f"{where}.{unknown[0]}", f"{label}: unknown field “{unknown[0]}”.", index + 1)
    if not isinstance(title, str) or not title.strip() or len(title) > TITLE_MAX:
        raise _invalid(f"{where}.title", f"{label}: title is required (at most {TITLE_MAX} characters).", index + 1)
    action = raw.get("action")
    if not isinstance(action, str) or action not in actions.ACTIONS:
        raise _invalid(f"{where}.action", f"{label}: action must be one of {', '.join(actions.ACTIONS)}, not "
                                          f"“{action}”.", index + 1)
    try:
        params = actions.validate_params(action, raw.get("params"))
    except ParamError as exc:
        raise _invalid(f"{where}.params.{exc.field}", f"{label}: {exc.message}", index + 1) from None
    timeout = raw.get("timeout_seconds", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= TIMEOUT_MAX:
        raise _invalid(f"{where}.timeout_seconds",
                       f"{label}: timeout_seconds must be a whole number from 1 to {TIMEOUT_MAX}, not {timeout!r}.",
                       index + 1)
    retries = raw.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= RETRIES_MAX:
        raise _invalid(f"{where}.retries", f"{label}: retries must be a whole number from 0 to {RETRIES_MAX}.",
                       index + 1)
    on_failure = raw.get("on_failure", OnFailure.STOP)
    if on_failure not in OnFailure.values:
        raise _invalid(f"{where}.on_failure", f"{label}: on_failure must be stop or continue.", index + 1)
    needs_approval = raw.get("needs_approval", False)
    if not isinstance(needs_approval, bool):
        raise _invalid(f"{where}.needs_approval", f"{label}: needs_approval must be true or false.", index + 1)
    return {"title": title.strip(), "action": action, "params": params, "timeout_seconds": timeout,
            "retries": retries, "on_failure": on_failure, "needs_approval": needs_approval}


def trigger_validate(raw: Any, index: int) -> dict[str, Any]:
    where = f"triggers[{index}]"
    if not isinstance(raw, dict):
        raise _invalid(where, f"Trigger {index + 1} must be an object with matchers.")
    unknown = sorted(set(raw) - TRIGGER_KEYS)
    if unknown:
        raise _invalid(f"{where}.{unknown[0]}", f"Trigger {index + 1}: unknown field “{unknown[0]}”.")
    try:
        value = raw.get("matchers")
        matchers = matchers_parse(value) if isinstance(value, str) else matchers_validate(value)
    except ApplicationError as exc:
        raise _invalid(f"{where}.matchers", f"Trigger {index + 1}: {exc.message}") from None
    if not matchers:
        raise _invalid(f"{where}.matchers", f"Trigger {index + 1}: at least one matcher, e.g. alertname=DatabaseDown.")
    severities = raw.get("severities") or []
    if not isinstance(severities, list) or not all(isinstance(s, str) for s in severities):
        raise _invalid(f"{where}.severities", f"Trigger {index + 1}: severities must be a list of names (P1, P2).")
    known = set(Severity.objects.values_list("name", flat=True))
    unknown_sev = sorted(set(severities) - known)
    if unknown_sev:
        raise _invalid(f"{where}.severities", f"Trigger {index + 1}: unknown severity {', '.join(unknown_sev)}.")
    auto_start = raw.get("auto_start", False)
    if not isinstance(auto_start, bool):
        raise _invalid(f"{where}.auto_start", f"Trigger {index + 1}: auto_start must be true or false.")
    return {"matchers": matchers, "severities": severities, "auto_start": auto_start}


@transaction.atomic
def runbook_save(*, data: Any, actor: Actor, runbook: Runbook | None = None,
                 expected_version: int | None = None) -> Runbook:
    """Create (``runbook`` None) or replace a runbook's name, description, steps and triggers.
    An edit raises ``version``; runs already started keep the steps they copied. With
    ``expected_version`` (the version the person edited), a runbook changed meanwhile is refused
    with ConflictError instead of overwriting that change."""
    clean = runbook_validate(data)
    try:
        with transaction.atomic():
            if runbook is None:
                runbook = Runbook.objects.create(name=clean.name, description=clean.description,
                                                 created_by=stored_user(actor))
            else:
                runbook = Runbook.objects.select_for_update().get(pk=runbook.pk)
                _check_version(runbook, expected_version)
                runbook.name = clean.name
                runbook.description = clean.description
                runbook.version += 1
                runbook.save()
    except IntegrityError:
        raise ConflictError(f"A runbook named “{clean.name}” already exists.", code="duplicate",
                            extra={"field": "name"}) from None
    runbook.steps.all().delete()
    Step.objects.bulk_create([Step(runbook=runbook, order=i, **step) for i, step in enumerate(clean.steps)])
    runbook.triggers.all().delete()
    Trigger.objects.bulk_create([Trigger(runbook=runbook, **trigger) for trigger in clean.triggers])
    return runbook


def _check_version(runbook: Runbook, expected_version: int | None) -> None:
    if expected_version is not None and runbook.version != expected_version:
        raise ConflictError(f"“{runbook.name}” changed while you edited v{expected_version}: it is v{runbook.version} "
                            "now, and your change was not saved.", code="stale",
                            extra={"field": "version", "version": runbook.version})


def _edit(runbook: Runbook, *, actor: Actor, expected_version: int,
          change: Callable[[dict[str, Any], list[dict[str, Any]]], None]) -> Runbook:
    """Lock the runbook, check it is still the version the person edited, apply ``change`` to its
    data (the shape :func:`runbook_save` takes) and save it as the next version."""
    with transaction.atomic():
        locked = Runbook.objects.select_for_update().get(pk=runbook.pk)
        _check_version(locked, expected_version)
        data = runbook_as_data(locked)
        change(data, data["steps"])
        return runbook_save(data=data, actor=actor, runbook=locked, expected_version=expected_version)


def _step_index(steps: list[dict[str, Any]], index: int) -> int:
    if not 0 <= index < len(steps):
        raise _invalid("index", f"There is no step {index + 1}: the runbook has {len(steps)} "
                                f"step{'s' if len(steps) != 1 else ''}.")
    return index


def runbook_step_save(*, runbook: Runbook, index: int | None, step: Any, actor: Actor,
                      expected_version: int) -> Runbook:
    """Replace step ``index`` (0-based) with ``step``, or append it (``index`` None). Errors name
    the field as every save does (``steps[2].params.url``)."""

    def change(data: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        if index is None:
            steps.append(step)
        else:
            steps[_step_index(steps, index)] = step

    return _edit(runbook, actor=actor, expected_version=expected_version, change=change)


def runbook_step_remove(*, runbook: Runbook, index: int, actor: Actor, expected_version: int) -> Runbook:
    """Remove step ``index``; the last step cannot go (a runbook has at least one)."""

    def change(data: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        steps.pop(_step_index(steps, index))

    return _edit(runbook, actor=actor, expected_version=expected_version, change=change)


def runbook_step_move(*, runbook: Runbook, index: int, offset: int, actor: Actor, expected_version: int) -> Runbook:
    """Move step ``index`` by ``offset`` places (-1 up, 1 down); past either end is refused."""

    def change(data: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        start = _step_index(steps, index)
        end = start + offset
        if not 0 <= end < len(steps):
            raise _invalid("index", f"Step {start + 1} is already the {'first' if offset < 0 else 'last'}.")
        steps.insert(end, steps.pop(start))

    return _edit(runbook, actor=actor, expected_version=expected_version, change=change)


def runbook_rename(*, runbook: Runbook, name: Any, description: Any, actor: Actor, expected_version: int) -> Runbook:
    """Change the name and description (the steps and triggers stay)."""

    def change(data: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        data["name"], data["description"] = name, description

    return _edit(runbook, actor=actor, expected_version=expected_version, change=change)


def runbook_as_data(runbook: Runbook) -> dict[str, Any]:
    """The runbook in the shape :func:`runbook_save` takes (API answers, YAML export)."""
    return {
        "name": runbook.name,
        "description": runbook.description,
        "steps": [
            {"title": s.title, "action": s.action, "params": s.params, "timeout_seconds": s.timeout_seconds,
             "retries": s.retries, "on_failure": s.on_failure, "needs_approval": s.needs_approval}
            for s in runbook.steps.order_by("order")
        ],
        "triggers": [
            {"matchers": t.matchers, "severities": t.severities, "auto_start": t.auto_start}
            for t in runbook.triggers.order_by("pk")
        ],
    }
