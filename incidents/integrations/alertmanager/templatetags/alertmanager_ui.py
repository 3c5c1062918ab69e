"""Template helpers for the Alertmanager pieces of other pages: the alerts table and silences
panel on the incident page, the maintenance notice on the dashboard, and small formatters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template

from opsportal.lib.durations import format_duration

from .. import selectors
from ..forms import format_matchers

register = template.Library()


@register.filter
def yaml_quote(value: object) -> str:
    """A YAML single-quoted scalar: safe for any text on one line."""
    return "'" + str(value).replace("'", "''") + "'"


@register.filter
def matchers_text(matchers: list[dict[str, Any]] | None) -> str:
    """``service=checkout, alertname=~Disk.*``; works for both stored matcher shapes."""
    normalised = [
        {
            "name": m.get("name"),
            "value": m.get("value"),
            "is_regex": m.get("is_regex", m.get("isRegex", False)),
            "is_equal": m.get("is_equal", m.get("isEqual", True)),
        }
        for m in matchers or []
    ]
    return format_matchers(normalised).replace("\n", ", ")


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


@register.inclusion_tag("alertmanager/_incident_alerts.html", takes_context=True)
def incident_alerts(context: template.Context, incident: Any) -> dict[str, Any]:
    """The incident's alerts and a warning when Alertmanager cut alerts from the latest delivery."""
    from ..views import alerts_panel_context

    return alerts_panel_context(context.get("request"), incident)


@register.inclusion_tag("alertmanager/_silences_panel.html", takes_context=True)
def incident_silences(context: template.Context, incident: Any) -> dict[str, Any]:
    from ..views import silence_panel_context

    data = silence_panel_context(context.get("request"), incident)
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.inclusion_tag("alertmanager/_dashboard_maintenance.html", takes_context=True)
def dashboard_maintenance(context: template.Context) -> dict[str, Any]:
    """Maintenance windows active now and starting within 24 hours, for the incident list."""
    request = context.get("request")
    active, upcoming = selectors.maintenance_for_dashboard(user=getattr(request, "user", None))
    return {"active": active, "upcoming": upcoming, "request": request}
