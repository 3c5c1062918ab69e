"""What every action shares: parameter validation that names the field, a structured result, the
sandboxed templates parameters are written in, and secrets referenced by name (docs/runbooks.md).

An action is a module with ``NAME``, ``LABEL``, ``AUTOMATED`` (a worker runs it), ``FIELDS`` (its
parameters: the editor's form is built from them and ``validate`` accepts exactly these names, so
they are the one description of what the action takes), ``validate(params) -> params`` (raise
:class:`ParamError`) and, for
automated actions, ``run(params, context) -> Result``. ``validate`` runs at save and never touches
the network; ``run`` runs in a worker and never raises for an expected failure (it returns a failed
result whose ``output`` says why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from jinja2 import StrictUndefined, Template, TemplateError

from opsportal.lib.templating import BoundedSandbox

TEXT_MAX = 10_000
_env = BoundedSandbox(undefined=StrictUndefined, autoescape=False)
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


class ParamError(Exception):
    """A parameter is wrong; ``field`` names it (``url``, ``argv[2]``, ``expect_status``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ParamField:
    """One parameter of an action, as the editor's form shows it (``runbooks/step_forms.py``)."""

    name: str
    label: str
    # text, textarea, number, select, checkbox, lines (one list item a line), mapping (name=value
    # lines), argv (a program from ``choices_setting``, then one argument a line)
    kind: str = "text"
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    # Choices read from this setting when the form is drawn (the command allow-list).
    choices_setting: str = ""


def param_names(fields: tuple[ParamField, ...]) -> set[str]:
    """The parameters an action accepts: the names of its ``FIELDS``."""
    return {f.name for f in fields}


@dataclass
class Result:
    """What one attempt did. ``ok`` decides the step's status; ``output`` is what a person reads
    (bounded when stored); ``data`` holds figures (status code, latency); ``announce`` replaces the
    timeline message (the notify action's text)."""

    ok: bool
    output: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    announce: str = ""


@dataclass(frozen=True)
class RunContext:
    """What parameter templates see: the incident as plain dicts, never model instances."""

    labels: dict[str, str]
    annotations: dict[str, str]
    incident: dict[str, Any]

    def template_vars(self) -> dict[str, Any]:
        return {"labels": self.labels, "annotations": self.annotations, "incident": self.incident}


SAMPLE_CONTEXT = RunContext(labels={}, annotations={}, incident={})


# --- checks used by validate() ---------------------------------------------------------------


def only_known(params: Any, allowed: set[str]) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ParamError("params", "Parameters must be an object.")
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ParamError(unknown[0], f"Unknown parameter “{unknown[0]}”; this action takes {', '.join(sorted(allowed)) or 'none'}.")
    return dict(params)


def text(params: dict[str, Any], name: str, *, required: bool = False, default: str = "",
         max_length: int = TEXT_MAX) -> str:
    value = params.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise ParamError(name, f"{name} must be text.")
    if required and not value.strip():
        raise ParamError(name, f"{name} is required.")
    if len(value) > max_length:
        raise ParamError(name, f"{name} is longer than {max_length} characters.")
    return value


def number(params: dict[str, Any], name: str, *, default: float | None = None, minimum: float = 0,
           maximum: float = 86_400, integer: bool = False) -> float | None:
    value = params.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamError(name, f"{name} must be a number.")
    if integer and not float(value).is_integer():
        raise ParamError(name, f"{name} must be a whole number.")
    if not minimum <= value <= maximum:
        raise ParamError(name, f"{name} must be between {minimum:g} and {maximum:g}, not {value}.")
    return int(value) if integer else float(value)


def template(value: str, name: str) -> str:
    """Refuse a template that does not parse (syntax is checkable at save; labels are not)."""
    try:
        _compiled(value)
    except TemplateError as exc:
        raise ParamError(name, f"{name} is not a valid template: {exc}") from None
    return value


def secret_refs(params: dict[str, Any], name: str) -> dict[str, str]:
    """``{"Authorization": "OPS_API_TOKEN"}``: a header or variable name to the name of a secret in
    settings (RUNBOOK_SECRET_<NAME>). The value itself is never stored in a step."""
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise ParamError(name, f"{name} must map names to secret names.")
    for key, secret in value.items():
        if not isinstance(key, str) or not key or not isinstance(secret, str) or not SECRET_NAME.match(secret):
            raise ParamError(f"{name}.{key}", f"{name}.{key} must name a secret (capitals, digits, _).")
        if secret not in settings.RUNBOOK_SECRETS:
            raise ParamError(f"{name}.{key}", f"No secret “{secret}” is configured (set RUNBOOK_SECRET_{secret}).")
    return dict(value)


# --- helpers used by run() ------------------------------------------------------------------


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    return _env.from_string(source)


def render(source: str, context: RunContext) -> str:
    """Render a parameter template in the bounded sandbox (raises TemplateError: a missing label)."""
    return _compiled(source).render(context.template_vars())


def secret(name: str) -> str:
    return str(settings.RUNBOOK_SECRETS.get(name, ""))


def redact(output: str, refs: dict[str, str]) -> str:
    """Never show a secret's value in stored output, even when the other side echoes it."""
    for name in refs.values():
        value = secret(name)
        if value:
            output = output.replace(value, f"[secret {name}]")
    return output
