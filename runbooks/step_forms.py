"""The editor's step form (docs/runbooks.md, "Editor"). Its inputs come from the action's ``FIELDS``
(``runbooks/actions/``: the one description of each action's parameters); posted text goes back
into the step shape ``editing.step_validate`` checks, so a step typed here is validated exactly
like one sent to the API or imported as YAML. Nothing here decides what is valid: text that is not
a number stays text, for the validator to refuse by name."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from opsportal.lib.exceptions import ApplicationError

from . import actions
from .actions import ParamField
from .models import OnFailure

PARAM = "p_"  # the posted name of a parameter: p_url, p_expect_status
ARGS = "_args"  # the argv kind's arguments, one a line: p_argv_args
COMMON_NUMBERS = ("timeout_seconds", "retries")
DEFAULT_ACTION = "http_check"
INTEGER = re.compile(r"[+-]?[0-9]{1,15}")
KEY = re.compile(r"[a-z0-9]{1,12}")
STEP_FIELD = re.compile(r"^steps\[(\d+)\]\.(.+)$")
SUMMARY_VALUE_MAX = 80


@dataclass
class FieldView:
    """One parameter input as the template draws it."""

    name: str
    label: str
    kind: str
    input: str
    value: Any
    required: bool
    help: str
    options: tuple[str, ...] = ()
    args: str = ""
    error: str = ""

    @property
    def wide(self) -> bool:
        """Takes a row of its own: texts people write at length, and a required text (the URL)."""
        return self.kind in ("textarea", "lines", "mapping", "argv") or (self.kind == "text" and self.required)


@dataclass
class StepForm:
    """A step being edited. ``values`` holds the inputs by posted name (text; checkboxes bool),
    ``errors`` the messages by field (``title``, ``url``, ``argv``), ``error`` one about the whole
    step. ``key`` makes the inputs' ids unique on the page (the step's index, ``new``)."""

    action: str
    index: int | None = None
    key: str = "new"
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def action_choices(self) -> list[tuple[str, str]]:
        return [(name, str(module.LABEL)) for name, module in actions.ACTIONS.items()]

    @property
    def on_failure_choices(self) -> list[tuple[str, str]]:
        return list(OnFailure.choices)

    @property
    def fields(self) -> tuple[ParamField, ...]:
        module = actions.ACTIONS.get(self.action)
        return tuple(module.FIELDS) if module else ()

    @property
    def params(self) -> list[FieldView]:
        views = []
        for f in self.fields:
            value = self.values.get(PARAM + f.name, False if f.kind == "checkbox" else "")
            views.append(FieldView(
                name=f.name, label=f.label, kind=f.kind, input=PARAM + f.name, value=value, required=f.required,
                help=f.help, options=_options(f, value), args=str(self.values.get(PARAM + f.name + ARGS, "")),
                error=self.errors.get(f.name, ""),
            ))
        return views

    def to_step(self) -> dict[str, Any]:
        """The step as ``runbook_save`` takes it. ApplicationError (field ``params.<name>``) only for
        text the form itself cannot read (a mapping line without ``=``)."""
        step: dict[str, Any] = {"title": self.values.get("title", ""), "action": self.action,
                                "needs_approval": bool(self.values.get("needs_approval"))}
        for name in COMMON_NUMBERS:
            raw = str(self.values.get(name, "")).strip()
            if raw:
                step[name] = int(raw) if INTEGER.fullmatch(raw) else raw
        if self.values.get("on_failure"):
            step["on_failure"] = self.values["on_failure"]
        params: dict[str, Any] = {}
        for f in self.fields:
            value = _param_value(f, self.values)
            if value is not None:
                params[f.name] = value
        step["params"] = params
        return step

    def show_error(self, exc: ApplicationError, *, at: int | None) -> None:
        """Put a save's error next to the input it names, or above the form; ``at`` is the step's
        index in the runbook that was saved (errors of other steps go above the form)."""
        name = field_of(str(exc.extra.get("field", "")), at)
        if name and (name in ("title", "action", "on_failure", "needs_approval", *COMMON_NUMBERS)
                     or name in actions.param_names(self.fields)):
            self.errors[name] = exc.message
        else:
            self.error = exc.message


def blank(action: str, *, index: int | None = None, key: str = "new") -> StepForm:
    return StepForm(action=action, index=index, key=key, values={
        "title": "", "timeout_seconds": "30", "retries": "0", "on_failure": OnFailure.STOP, "needs_approval": False})


def from_step(step: Mapping[str, Any], *, index: int | None, key: str) -> StepForm:
    """A stored step (``editing.runbook_as_data``'s shape) as the form shows it."""
    form = StepForm(action=str(step["action"]), index=index, key=key, values={
        "title": step["title"], "timeout_seconds": str(step["timeout_seconds"]), "retries": str(step["retries"]),
        "on_failure": step["on_failure"], "needs_approval": bool(step["needs_approval"])})
    params = step.get("params") or {}
    for f in form.fields:
        if f.name in params:
            form.values.update(_param_inputs(f, params[f.name]))
    return form


def from_post(data: Mapping[str, Any], *, index: int | None, key: str | None = None) -> StepForm:
    """The form as posted (or sent along when the action changes: the inputs of the other action
    that share a name are kept)."""
    action = str(data.get("action") or DEFAULT_ACTION)
    raw_key = str(key or data.get("key") or "")
    form = StepForm(action=action, index=index, key=raw_key if KEY.fullmatch(raw_key) else "new")
    for name in ("title", "on_failure", *COMMON_NUMBERS):
        form.values[name] = str(data.get(name, ""))
    form.values["needs_approval"] = bool(data.get("needs_approval"))
    for f in form.fields:
        if f.kind == "checkbox":
            form.values[PARAM + f.name] = bool(data.get(PARAM + f.name))
            continue
        form.values[PARAM + f.name] = str(data.get(PARAM + f.name, ""))
        if f.kind == "argv":
            form.values[PARAM + f.name + ARGS] = str(data.get(PARAM + f.name + ARGS, ""))
    return form


def field_of(error_field: str, index: int | None) -> str:
    """The form field a save's error names: ``steps[2].params.url`` → ``url`` when the form edits
    step 2 (``index`` None: any step, the form's own); ``headers.X-Token`` and ``argv[1]`` →
    their input. Empty when the error is about something else (another step, the runbook)."""
    match = STEP_FIELD.match(error_field)
    if match:
        if index is not None and int(match.group(1)) != index:
            return ""
        error_field = match.group(2)
    if error_field.startswith("params."):
        error_field = error_field.removeprefix("params.")
    return re.split(r"[.\[]", error_field, maxsplit=1)[0]


def summary(action: str, params: Mapping[str, Any]) -> str:
    """One line for the step list: required texts and choices as they are, the others with their
    label (``GET · http://db:8080/health · Expected status 200``)."""
    module = actions.ACTIONS.get(action)
    parts = []
    for f in module.FIELDS if module else ():
        value: Any = params.get(f.name)
        if value in (None, "", [], {}, False):
            continue
        if f.kind == "argv" and isinstance(value, list):
            text = " ".join(str(v) for v in value)
        elif f.kind == "mapping" and isinstance(value, dict):
            text = f"{f.label}: {', '.join(str(k) for k in value)}"
        elif f.kind == "checkbox":
            text = f.label
        else:
            text = _number_text(value) if f.kind == "number" else (str(value).strip().splitlines() or [""])[0]
            if f.kind == "number" or not (f.required or f.kind == "select"):
                text = f"{f.label} {text}"
        parts.append(text if len(text) <= SUMMARY_VALUE_MAX else text[: SUMMARY_VALUE_MAX - 1] + "…")
    return " · ".join(parts)


# --- conversions, one per input kind ------------------------------------------------------------


def _options(f: ParamField, value: Any) -> tuple[str, ...]:
    """A select's choices; a stored value no longer among them is kept visible, not silently changed."""
    if f.kind not in ("select", "argv"):
        return ()
    choices = tuple(getattr(settings, f.choices_setting, ())) if f.choices_setting else f.choices
    return choices if not value or value in choices else (*choices, str(value))


def _number_text(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _param_inputs(f: ParamField, value: Any) -> dict[str, Any]:
    name = PARAM + f.name
    if f.kind == "checkbox":
        return {name: bool(value)}
    if f.kind == "number":
        return {name: _number_text(value)}
    if f.kind == "lines" and isinstance(value, list):
        return {name: "\n".join(str(v) for v in value)}
    if f.kind == "mapping" and isinstance(value, dict):
        return {name: "\n".join(f"{k}={v}" for k, v in value.items())}
    if f.kind == "argv" and isinstance(value, list) and value:
        return {name: str(value[0]), name + ARGS: "\n".join(str(v) for v in value[1:])}
    return {name: "" if value is None else str(value)}


def _lines(text: str) -> list[str]:
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def _param_value(f: ParamField, values: Mapping[str, Any]) -> Any:
    """The posted input(s) of ``f`` as the parameter's value; None leaves the parameter out (the
    action's default, or its "is required" error)."""
    raw = values.get(PARAM + f.name)
    if f.kind == "checkbox":
        return True if raw else None
    text = str(raw or "")
    if f.kind == "argv":
        args = _lines(str(values.get(PARAM + f.name + ARGS, "")))
        return [text, *args] if text else None
    if not text.strip():
        return None
    if f.kind == "number":
        value = text.strip()
        if INTEGER.fullmatch(value):
            return int(value)
        try:
            return float(value)
        except ValueError:
            return value
    if f.kind == "lines":
        return _lines(text)
    if f.kind == "mapping":
        mapping = {}
        for line in _lines(text):
            key, sep, item = line.partition("=")
            if not sep or not key.strip():
                raise ApplicationError(f"{f.name}: write name=value, one a line; “{line.strip()}” is not.",
                                       extra={"field": f"params.{f.name}"})
            mapping[key.strip()] = item.strip()
        return mapping
    return text
