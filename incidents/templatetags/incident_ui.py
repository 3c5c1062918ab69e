"""Small formatting helpers for the incident pages: compact durations a responder reads at a glance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django import template
from django.utils import timezone

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
    """``4m ago``, or ``just now`` for the last minute."""
    text = age(value)
    return text if text in ("", "just now") else f"{text} ago"


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
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@register.filter
def target(value: timedelta | None) -> str:
    """An SLA target as people say it: ``15m``, ``4h``, ``1d``, ``1w``, ``1h 30m``."""
    return format_duration(value, parts=2)
