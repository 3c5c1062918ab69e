"""Incident title and description from an integration's Jinja2 templates (docs/architecture.md section 5).

Templates are edited by users, so they run in the bounded sandbox of ``opsportal.lib.templating``
(Jinja2's immutable sandbox plus limits on output size, loops and render time), with
``StrictUndefined`` over plain dicts built here (never model instances): a template can reach the
alert data and nothing else. Label and annotation maps answer a missing key with "" as
Alertmanager's own Go templates do, so ``commonAnnotations.summary or commonLabels.alertname``
works; a misspelt top-level name (``commonLabel``) is still an error.

A template that fails at webhook time must not lose the alerts: rendering falls back to the
default template and says so in the log.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError

from incidents.models import DESCRIPTION_MAX, TITLE_MAX
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.templating import BoundedSandbox

from .models import DEFAULT_DESCRIPTION_TEMPLATE, DEFAULT_TITLE_TEMPLATE
from .payload import AlertIn, Payload

log = logging.getLogger(__name__)
TEMPLATE_MAX = 10_000

# Immutable: a template cannot change the dicts it is given (SAMPLE_CONTEXT is shared).
_env = BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class LabelMap(dict[str, str]):
    """A label or annotation map: a missing name reads as "" (Alertmanager's template semantics)."""

    def __missing__(self, key: str) -> str:
        return ""


def template_context(payload: Payload, alerts: list[AlertIn] | None = None) -> dict[str, Any]:
    """What a template sees: the payload's own field names (groupLabels, commonAnnotations,
    alerts[].labels ...), as plain dicts and strings."""
    chosen = payload.alerts if alerts is None else alerts
    if alerts is None or len(chosen) == len(payload.alerts):
        common_labels, common_annotations = payload.common_labels, payload.common_annotations
    else:  # a post split into several groups: "common" means common to this group's alerts
        common_labels = _common([a.labels for a in chosen])
        common_annotations = _common([a.annotations for a in chosen])
    return {
        "status": "firing" if any(a.firing for a in chosen) else "resolved",
        "receiver": payload.receiver,
        "groupKey": payload.group_key,
        "groupLabels": LabelMap(payload.group_labels),
        "commonLabels": LabelMap(common_labels),
        "commonAnnotations": LabelMap(common_annotations),
        "externalURL": payload.external_url,
        "truncatedAlerts": payload.truncated_alerts,
        "alerts": [
            {**a.as_context(), "labels": LabelMap(a.labels), "annotations": LabelMap(a.annotations)}
            for a in chosen
        ],
    }


def render(source: str, context: dict[str, Any]) -> str:
    """Render one template; raises jinja2's TemplateError (incl. SecurityError, UndefinedError)."""
    return _compiled(source).render(context)


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """Compiling costs milliseconds and integrations have a handful of templates: keep them."""
    return _env.from_string(source)


def render_title(source: str, context: dict[str, Any]) -> str:
    """A one-line title of at most TITLE_MAX characters, never empty."""
    text = _render_or_default(source, DEFAULT_TITLE_TEMPLATE, context, "title")
    text = " ".join(text.split())
    if not text:
        text = " ".join(_render_or_default(DEFAULT_TITLE_TEMPLATE, DEFAULT_TITLE_TEMPLATE, context, "title").split())
    text = text or "Alert"
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


def render_description(source: str, context: dict[str, Any]) -> str:
    text = _render_or_default(source, DEFAULT_DESCRIPTION_TEMPLATE, context, "description").strip()
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


def template_validate(source: str, *, field: str = "template") -> None:
    """Check a template before it is saved: it must parse and render against a sample alert group.
    Raises ApplicationError naming the field and Jinja's message."""
    if len(source or "") > TEMPLATE_MAX:
        raise ApplicationError(
            f"{field}: the template is longer than {TEMPLATE_MAX} characters.", code="invalid", extra={"field": field}
        )
    try:
        render(source or "", SAMPLE_CONTEXT)
    except TemplateError as exc:
        raise ApplicationError(f"{field}: {exc}", code="invalid", extra={"field": field}) from None
    except Exception as exc:  # noqa: BLE001 - e.g. ZeroDivisionError inside a user's template
        raise ApplicationError(
            f"{field}: the template fails on a sample alert: {type(exc).__name__}: {exc}",
            code="invalid",
            extra={"field": field},
        ) from None


def _render_or_default(source: str, default: str, context: dict[str, Any], what: str) -> str:
    try:
        return render(source, context)
    except Exception as exc:  # noqa: BLE001 - a broken user template must not drop the alerts
        log.warning("alertmanager %s template failed, using the default", what, extra={"error": str(exc)})
        try:
            return render(default, context)
        except Exception:  # noqa: BLE001
            return ""


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first, rest = maps[0], maps[1:]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in rest)}


_SAMPLE_LABELS = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical", "instance": "web-1"}
_SAMPLE_ANNOTATIONS = {"summary": "5xx rate above 5%", "description": "checkout 5xx ratio is 7.2% for 10m"}
SAMPLE_CONTEXT: dict[str, Any] = {
    "status": "firing",
    "receiver": "opsportal",
    "groupKey": '{}:{alertname="HighErrorRate", service="checkout"}',
    "groupLabels": LabelMap({"alertname": "HighErrorRate", "service": "checkout"}),
    "commonLabels": LabelMap(_SAMPLE_LABELS),
    "commonAnnotations": LabelMap(_SAMPLE_ANNOTATIONS),
    "externalURL": "http://alertmanager.example:9093",
    "truncatedAlerts": 0,
    "alerts": [
        {
            "status": "firing",
            "labels": LabelMap(_SAMPLE_LABELS),
            "annotations": LabelMap(_SAMPLE_ANNOTATIONS),
            "startsAt": "2026-11-23T09:03:06Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": "f7ca8b2ae37f4b50",
        }
    ],
}
