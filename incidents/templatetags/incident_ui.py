"""Template helpers for the incident pages: compact durations a responder reads at a glance, and
the panels integrations register (``incidents.registry``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from incidents.models import Incident
from incidents.registry import registry
from opsportal.lib import stamps
from opsportal.lib.durations import compact, format_duration

register = template.Library()


@register.filter
def age(value: datetime | None) -> str:
    """How long ago ``value`` was, compactly: ``4m``, ``2h 05m``, ``3d 1h``."""
    if value is None:
        return ""
    delta = timezone.now() - value
    if delta.total_seconds() < 60:
        return "just now"
    return compact(delta)


@register.filter
def ago(value: datetime | None) -> str:
    """``4m ago``, or ``just now`` for the last minute (static/js/app.js ticks it from data-since)."""
    return stamps.ago(value)


@register.filter
def duration(value: timedelta | None) -> str:
    """A measured span such as MTTA or MTTR."""
    if value is None:
        return ""
    return compact(value, seconds=True)


@register.filter
def countdown(value: datetime | None) -> str:
    """The first frame of a live SLA countdown; static/js/app.js rewrites it every second."""
    if value is None:
        return ""
    delta = value - timezone.now()
    text = compact(delta, seconds=True)
    return text if delta.total_seconds() >= 0 else f"-{text}"


@register.filter
def overdue(value: datetime | None) -> bool:
    return value is not None and value <= timezone.now()


@register.filter
def iso(value: datetime | None) -> str:
    """UTC ISO 8601 with milliseconds, the form every browser's Date parses."""
    return stamps.iso(value)


@register.filter
def target(value: timedelta | None) -> str:
    """An SLA target as people say it: ``15m``, ``4h``, ``1d``, ``1w``, ``1h 30m``."""
    return format_duration(value, parts=2)


@register.simple_tag(takes_context=True)
def incident_panels(context: template.Context, incident: Incident) -> SafeString:
    """Every registered incident-page panel, in order (the core names no integration)."""
    request = context["request"]
    return mark_safe("".join(  # noqa: S308 - each part is a rendered, autoescaped template
        panel.html(request, incident) for panel in registry.incident_panels
    ))


@register.simple_tag(takes_context=True)
def dashboard_panels(context: template.Context) -> SafeString:
    """Every registered notice for the top of the incident list, in order."""
    request = context["request"]
    return mark_safe("".join(  # noqa: S308 - each part is a rendered, autoescaped template
        render_to_string(panel.template, panel.context(request), request=request)
        for panel in registry.dashboard_panels
    ))
