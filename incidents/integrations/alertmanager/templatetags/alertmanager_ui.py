"""Formatters for the Alertmanager templates: label chips, matchers, safe links, YAML quoting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template

from opsportal.lib.durations import format_duration
from opsportal.lib.matchers import matchers_format

register = template.Library()


@register.filter
def yaml_quote(value: object) -> str:
    """A YAML single-quoted scalar: safe for any text on one line."""
    return "'" + str(value).replace("'", "''") + "'"


@register.filter
def matchers_text(matchers: list[dict[str, Any]] | None) -> str:
    """``service="checkout", alertname=~"Disk.*"``; works for both stored matcher shapes."""
    return matchers_format(matchers)


@register.filter
def sorted_items(value: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """A dict's items by key, alertname first (it names the alert)."""
    items = sorted((value or {}).items())
    return sorted(items, key=lambda kv: kv[0] != "alertname")


@register.filter
def http_url(value: object) -> str:
    """The URL when it is http(s), else empty: a generatorURL must never become a javascript: link."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""


@register.filter
def duration_text(value: timedelta | None) -> str:
    return format_duration(value)
