"""What on-call adds to the core's pages (registered with ``incidents.registry``): "On-call" in
the top bar and "who is on call now" above the incident list."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from incidents.registry import DashboardPanel, NavEntry, registry

from . import selectors, summary

DASHBOARD_PANEL = "oncall/_dashboard_oncall.html"
# The dashboard names the first schedules only; the on-call page lists them all.
DASHBOARD_SCHEDULES = 8


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    schedules = list(selectors.schedule_list_for_user(user=request.user, overrides_after=now)[: DASHBOARD_SCHEDULES + 1])
    return {
        "rows": [summary.now_and_next(s, now) for s in schedules[:DASHBOARD_SCHEDULES]],
        "more": len(schedules) > DASHBOARD_SCHEDULES,
    }


def register() -> None:
    registry.add_dashboard_panel(DashboardPanel("oncall", DASHBOARD_PANEL, dashboard_context, order=20))
    registry.add_nav_entry(NavEntry("On-call", "oncall:list", current=("oncall",), order=25))
