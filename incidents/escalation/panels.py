"""The escalation panel of the incident page: the policy, the current level, who was paged when,
a live countdown to the next level and exactly whom it will reach; "Escalate now" and "Page…"."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone

from incidents.models import Incident
from incidents.oncall.models import Schedule
from incidents.registry import IncidentPanel, NavEntry, registry

from .plan import escalation_plan, plan_version

PANEL = "escalation/_incident_panel.html"
CHOICES_MAX = 200


def panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    now = timezone.now()
    plan = escalation_plan(incident, now=now)
    users = list(get_user_model().objects.filter(is_active=True).order_by("username")
                 .values_list("username", flat=True)[: CHOICES_MAX + 1])
    return {
        "incident": incident, "plan": plan, "next_step": plan.next_step,
        "sent": [s for s in plan.steps if s["status"] == "sent"],
        # The picker names the first users; with more, anyone can be paged by typing their name.
        "users": users[:CHOICES_MAX], "more_users": len(users) > CHOICES_MAX,
        "schedules": list(Schedule.objects.order_by("name").values_list("pk", "name")[:CHOICES_MAX]),
        # The poll sends the version it shows and gets 204 while it holds.
        "version": plan_version(incident, now=now),
    }


def _shared(request: HttpRequest, incident: Incident) -> tuple[object, ...]:
    """The panel is the same for everyone while its version holds (users and schedules listed by
    name, nobody's own state), so the incident page draws it once per version."""
    return (plan_version(incident),)


ESCALATION_PANEL = IncidentPanel("escalation", PANEL, panel_context, order=30, shared=_shared)


def register() -> None:
    registry.add_incident_panel(ESCALATION_PANEL)
    registry.add_nav_entry(NavEntry("Escalation", "escalation:policies", current=("escalation",), order=35))
