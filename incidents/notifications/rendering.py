"""Messages from editable templates (docs/architecture.md section 5).

Templates are Jinja2 in the bounded sandbox of ``opsportal.lib.templating`` with ``StrictUndefined``, rendered over plain dicts built here,
never model instances: a template can reach the incident's fields and the event, nothing else. A
channel's ``escape`` is applied to every text value first, so alert text cannot become markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from jinja2 import StrictUndefined, Template, TemplateError

from incidents.models import Incident, TimelineEvent
from incidents.registry import registry
from opsportal.lib import memo
from opsportal.lib.durations import format_duration
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.templating import BoundedSandbox

from .channels import MessageChannel, no_escape
from .defaults import DEFAULTS
from .models import MessageTemplate

BODY_MAX = 8_000
SUBJECT_MAX = 500
# A rendered message longer than this is cut with a marker (channels cut further to their limits).
RENDERED_MAX = 12_000

# The bounded sandbox: output size, loop length and render time are capped (docs/security.md).
_env = BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    return _env.from_string(source)


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else ""


_MARK = "2147483647"


@lru_cache(maxsize=16)
def _detail_path(urlconf: str | None, script_prefix: str) -> str:
    """The incident page's path with _MARK for its id, reversed once per URLconf and script
    prefix: reverse() cost every message a tenth of a millisecond."""
    return reverse("incidents:detail", args=[int(_MARK)], urlconf=urlconf)


def incident_context(incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
    """The incident as templates (and channels building their own layout) see it."""
    now = now or timezone.now()
    end = incident.resolved_at or now
    return {
        "id": incident.pk,
        "key": incident.key,
        "title": incident.title,
        "description": incident.description,
        "status": incident.status,
        "status_label": incident.get_status_display(),
        "severity": incident.severity.name,
        "severity_label": incident.severity.label,
        "severity_colour": incident.severity.colour,
        "severity_rank": incident.severity.rank,
        "service": incident.service.name if incident.service else "",
        "commander": incident.commander.get_username() if incident.commander else "",
        "source": incident.source,
        "labels": dict(incident.labels or {}),
        "url": settings.PUBLIC_URL + _detail_path(get_urlconf(), get_script_prefix()).replace(_MARK, str(incident.pk)),
        "opened_at": incident.opened_at.isoformat(),
        "acknowledged_at": incident.acknowledged_at.isoformat() if incident.acknowledged_at else "",
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else "",
        "response_due_at": incident.response_due_at.isoformat(),
        "resolve_due_at": incident.resolve_due_at.isoformat(),
        "response_due_at_text": _when(incident.response_due_at),
        "resolve_due_at_text": _when(incident.resolve_due_at),
        "response_breached": incident.response_breached_at is not None,
        "resolve_breached": incident.resolve_breached_at is not None,
        "is_open": incident.is_open,
        "duration": format_duration(end - incident.opened_at, parts=2),
        "time_to_acknowledge": format_duration(incident.time_to_acknowledge, parts=2) or "not yet",
    }


def event_context(event: TimelineEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "label": event.get_kind_display(),
        "message": event.message,
        "actor": event.actor.get_username() if event.actor else "",
        "source": event.get_source_display(),
        "at": event.created_at.isoformat(),
        "data": dict(event.data or {}),
    }


def message_context(incident: dict[str, Any], event: dict[str, Any], *,
                    escape: Callable[[str], str] = no_escape) -> dict[str, Any]:
    """What a template sees. The dicts are shared as they are where nothing is escaped: the
    sandbox is immutable, so no template can change what the next channel renders."""
    if escape is not no_escape:
        incident, event = _escaped(incident, escape), _escaped(event, escape)
    return {"incident": incident, "event": event, "status_page_url": getattr(settings, "STATUS_PAGE_URL", "")}


def _escaped(value: Any, escape: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v, escape) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v, escape) for v in value]
    return value


def edited_templates(kind: str) -> dict[str, tuple[str, str]]:
    """The edited (subject, body) of ``kind`` per channel name, in one query (kept for about a
    second, ``memo.config``)."""
    return memo.config(
        ("notifications.templates", kind),
        lambda: {row.channel: (row.subject, row.body) for row in MessageTemplate.objects.filter(event=kind)},
    )


def template_source(channel: MessageChannel, kind: str,
                    edited: dict[str, tuple[str, str]] | None = None) -> tuple[str, str]:
    """(subject, body) for ``kind`` on ``channel``: the edited row, else the channel's own default,
    else the shared default. ``edited`` is :func:`edited_templates` when the caller has it."""
    if edited is None:
        edited = edited_templates(kind)
    if channel.name in edited:
        return edited[channel.name]
    return channel.templates.get(kind) or DEFAULTS.get(kind) or ("", "{{ event.label }}: {{ event.message }}")


def compile_defaults() -> int:
    """Compile every installed channel's built-in templates (opsportal/warmup.py). Returns how many."""
    sources = {source for channel in registry.message_channels for kind in channel.events
               for source in template_source(channel, kind, edited={}) if source}
    for source in sources:
        _compiled(source)
    return len(sources)


def render(source: str, context: dict[str, Any]) -> str:
    text = _compiled(source).render(context).strip()
    return text if len(text) <= RENDERED_MAX else text[: RENDERED_MAX - 20] + "\n… (message cut)"


def render_message(channel: MessageChannel, kind: str, incident: dict[str, Any],
                   event: dict[str, Any], edited: dict[str, tuple[str, str]] | None = None) -> dict[str, str]:
    """The stored payload of a delivery: {"subject", "text"}. A template that fails at send time
    (it rendered at save, but an event may lack a field) falls back to the built-in wording,
    with the error noted, rather than losing the message."""
    subject, body = template_source(channel, kind, edited)
    context = message_context(incident, event, escape=channel.escape)
    try:
        return {"subject": render(subject, context) if subject else "", "text": render(body, context)}
    except TemplateError as exc:
        default_subject, default_body = channel.templates.get(kind) or DEFAULTS.get(kind) or ("", "{{ event.message }}")
        return {
            "subject": render(default_subject, context) if default_subject else "",
            "text": render(default_body, context),
            "template_error": f"{type(exc).__name__}: {exc}",
        }


def template_check(subject: str, body: str, *, incident: Incident | None = None,
                   kind: str = "opened") -> dict[str, str]:
    """Render against a real incident (or a sample one) and return the result; ApplicationError
    naming the field when a template does not render, so a broken template is refused at save."""
    if not body.strip():
        raise ApplicationError("The message body must not be empty.", code="invalid", extra={"field": "body"})
    if len(body) > BODY_MAX:
        raise ApplicationError(f"The body is longer than {BODY_MAX} characters.", code="invalid",
                               extra={"field": "body"})
    if len(subject) > SUBJECT_MAX:
        raise ApplicationError(f"The subject is longer than {SUBJECT_MAX} characters.", code="invalid",
                               extra={"field": "subject"})
    incident_dict, event_dict = (_sample(kind) if incident is None else
                                 (incident_context(incident), _last_event(incident, kind)))
    context = message_context(incident_dict, event_dict)
    out = {}
    for field, source in (("subject", subject), ("body", body)):
        if not source:
            out[field] = ""
            continue
        try:
            out[field] = render(source, context)
        except TemplateError as exc:
            raise ApplicationError(
                f"The {field} does not render: {type(exc).__name__}: {exc}", code="invalid", extra={"field": field}
            ) from None
    return out


def _last_event(incident: Incident, kind: str) -> dict[str, Any]:
    event = incident.events.filter(kind=kind).order_by("-created_at").first()
    return event_context(event) if event else _sample(kind)[1]


def _sample(kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A made-up incident with every field filled, for checking a template with no real one."""
    now = timezone.now()
    incident = {
        "id": 42, "key": "inc-sample", "title": "Checkout API returns 502 for EU users",
        "description": "5xx ratio 7.2% for 10 minutes.", "status": "triggered", "status_label": "Triggered",
        "severity": "P1", "severity_label": "Critical", "severity_colour": "#dc2626", "severity_rank": 1,
        "service": "checkout", "commander": "alice", "source": "alertmanager",
        "labels": {"alertname": "HighErrorRate", "service": "checkout"},
        "url": settings.PUBLIC_URL + "/incidents/42/", "opened_at": now.isoformat(),
        "acknowledged_at": "", "resolved_at": "", "response_due_at": now.isoformat(),
        "resolve_due_at": now.isoformat(), "response_due_at_text": _when(now), "resolve_due_at_text": _when(now),
        "response_breached": False, "resolve_breached": False, "is_open": True, "duration": "12m",
        "time_to_acknowledge": "4m",
    }
    event = {"kind": kind, "label": kind.replace("_", " ").capitalize(), "message": "Rolled back the deploy.",
             "actor": "alice", "source": "Web", "at": now.isoformat(), "data": {"from": "P2", "to": "P1"}}
    return incident, event
