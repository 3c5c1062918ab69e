"""What the Alertmanager integration shows on the core's pages, registered with
``incidents.registry`` by ``apps.AlertmanagerConfig.ready``: the alerts table and the silences
panel on the incident page, the maintenance notice above the incident list, and the nav entry."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from incidents.models import Incident
from incidents.registry import DashboardPanel, IncidentPanel, NavEntry, registry

from . import selectors, silences
from .forms import SilenceForm

ALERTS_PANEL = "alertmanager/_incident_alerts.html"
SILENCE_PANEL = "alertmanager/_silences_panel.html"
MAINTENANCE_NOTICE = "alertmanager/_dashboard_maintenance.html"


def alerts_panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    """What the alerts table needs (the incident page and its periodic refresh)."""
    return {
        "incident": incident,
        "alerts": selectors.alert_list_for_incident(user=request.user, incident=incident),
        "latest_delivery": selectors.latest_delivery_for_incident(user=request.user, incident=incident),
    }


def silence_panel_context(
    request: HttpRequest, incident: Incident, *, form: SilenceForm | None = None, error: str = ""
) -> dict[str, Any]:
    """What the silences panel needs (the incident page, and every answer of the panel's forms)."""
    listed = selectors.silence_list_for_incident(user=request.user, incident=incident)
    integration = selectors.alert_integration_for_incident(user=request.user, incident=incident)
    return {
        "incident": incident,
        "silences": [{"silence": s, "expired": silences.silence_is_expired(s)} for s in listed],
        "can_manage_silences": silences.can_manage_silences(request.user),
        "form": form or SilenceForm(),
        "error": error,
        "alerts_exist": integration is not None,
        "integration": integration,
    }


def maintenance_notice_context(request: HttpRequest) -> dict[str, Any]:
    """Maintenance windows active now and starting within 24 hours."""
    active, upcoming = selectors.maintenance_for_dashboard(user=request.user)
    return {"active": active, "upcoming": upcoming}


def register() -> None:
    registry.add_incident_panel(IncidentPanel("alerts", ALERTS_PANEL, alerts_panel_context, order=10))
    registry.add_incident_panel(IncidentPanel("silences", SILENCE_PANEL, silence_panel_context, order=20))
    registry.add_dashboard_panel(DashboardPanel("maintenance", MAINTENANCE_NOTICE, maintenance_notice_context))
    registry.add_nav_entry(NavEntry("Integrations", "alertmanager:list", current=("integrations", "maintenance"),
                                    order=30))
