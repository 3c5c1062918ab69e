"""What runbooks add to the core through ``incidents.registry``: the run panel on the incident
page, the "Runbooks" navigation entry, the incident-opened hook of auto-start triggers, demo data."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from incidents.models import Incident
from incidents.registry import IncidentPanel, NavEntry, registry

from . import runs, selectors, triggers
from .demo import seed_runbooks
from .models import StepStatus

RUN_PANEL = "runbooks/_run_panel.html"


def run_panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    run_list = selectors.run_list_recent_for_incident(user=request.user, incident=incident)
    running_ids = {r.runbook_id for r in run_list if not r.is_finished}
    suggested = [rb for rb in triggers.runbooks_matching(incident, auto_start=False) if rb.pk not in running_ids]
    # The panel shows the newest RECENT_RUNS runs; when there are fewer, they are all of them.
    version = selectors.run_version_for_incident(incident=incident,
                                                 runs=run_list if len(run_list) < selectors.RECENT_RUNS else None)
    return {
        "incident": incident,
        "runs": [
            {"run": r, "steps": list(r.steps.all()), "can_operate": runs.can_operate(request.user, r),
             "current": None if r.is_finished else r.current_index}
            for r in run_list
        ],
        "suggested": suggested,
        "all_runbooks": selectors.runbook_choices_for_user(user=request.user),
        "poll_url": reverse("runbooks:panel", args=[incident.pk]) + f"?since={version}",
        "start_url": reverse("runbooks:start", args=[incident.pk]),
        "waiting": StepStatus.WAITING_APPROVAL,
        "failed": StepStatus.FAILED,
    }


def register() -> None:
    registry.add_incident_panel(IncidentPanel("runbooks", RUN_PANEL, run_panel_context, order=30))
    registry.add_nav_entry(NavEntry("Runbooks", "runbooks:list", current=("runbooks",), order=35))
    registry.add_incident_opened_hook(triggers.runbooks_start_for_new_incident)
    registry.add_demo_seeder(seed_runbooks, order=60)
