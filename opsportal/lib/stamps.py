"""Timestamps as the incident page's long lists show them, formatted in Python.

The alerts table and the timeline show three forms of each time (machine-readable, a hover title
and a short text), 50 rows at a time. Django's ``date`` filter reads its format string character by
character on every call, which made date formatting a large share of the page's render time
(docs/architecture.md section 8), so the rows are built with these instead. They give the same text
as ``date:"M j H:i:s"`` and ``date:"Y-m-d H:i:s T"`` in the current time zone (USE_I18N is off, so
month names are English). ``ago`` is the first frame of an age that static/js/app.js keeps ticking.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from .durations import compact

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def iso(value: datetime | None) -> str:
    """UTC ISO 8601 with milliseconds, the form every browser's Date parses (``datetime=``)."""
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def short(value: datetime | None) -> str:
    """``Nov 29 19:05:36`` in the current time zone."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{MONTHS[local.month - 1]} {local.day} {local:%H:%M:%S}"


def full(value: datetime | None) -> str:
    """``2026-11-29 19:05:36 UTC`` in the current time zone, for hover titles."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def ago(value: datetime | None) -> str:
    """``4m ago``, ``2h 05m ago``, or ``just now`` within the last minute."""
    if value is None:
        return ""
    delta = timezone.now() - value
    if delta.total_seconds() < 60:
        return "just now"
    return f"{compact(delta)} ago"
