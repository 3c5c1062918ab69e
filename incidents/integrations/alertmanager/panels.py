"""What the Alertmanager integration shows on the core's pages, registered with
``incidents.registry`` by ``apps.AlertmanagerConfig.ready``: the alerts table and the silences
panel on the incident page, the maintenance notice above the incident list, and the nav entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse

from incidents.models import Incident
from incidents.registry import DashboardPanel, IncidentPanel, NavEntry, registry
from opsportal.lib import fragments, memo
from opsportal.lib.exceptions import ApplicationError

from . import selectors, silences
from .alert_rows import AlertRow
from .alert_search import Term, parse_search
from .forms import SilenceForm
from .models import AlertStatus

ALERTS_PANEL = "alertmanager/_incident_alerts.html"
# The part of the panel that polls and pages: the fragment view answers with this alone.
ALERTS_BODY = f"{ALERTS_PANEL}#body"
ALERT_ROWS = f"{ALERTS_PANEL}#rows"
PAGE_SIZE = 50
MAX_PAGE = 1_000_000
STATES = ("", AlertStatus.FIRING.value, AlertStatus.RESOLVED.value)
SILENCE_PANEL = "alertmanager/_silences_panel.html"
MAINTENANCE_NOTICE = "alertmanager/_dashboard_maintenance.html"


@dataclass(frozen=True)
class AlertsView:
    """What the alerts panel is asked to show, from the query string. The parameter names carry an
    ``alerts_`` prefix because the incident page itself takes them too (links work without JS)."""

    state: str = ""
    search: str = ""
    terms: tuple[Term, ...] = ()
    page: int = 1

    @classmethod
    def from_query(cls, params: QueryDict) -> AlertsView:
        """Raises ApplicationError (400) naming the parameter that cannot be read."""
        state = params.get("alerts_state", "")
        if state not in STATES:
            raise ApplicationError(f"alerts_state must be one of: {', '.join(s or '(empty)' for s in STATES)}.",
                                   extra={"field": "alerts_state"})
        raw_page = params.get("alerts_page", "") or "1"
        if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
            raise ApplicationError(f"alerts_page must be a page number from 1 to {MAX_PAGE}.",
                                   extra={"field": "alerts_page"})
        search = params.get("alerts_q", "").strip()
        return cls(state=state, search=search, terms=parse_search(search), page=int(raw_page))

    def query(self, **change: Any) -> str:
        """The query string for this view with ``change`` applied (defaults left out)."""
        values = {"alerts_state": self.state, "alerts_q": self.search, "alerts_page": self.page, **change}
        return urlencode({k: v for k, v in values.items() if v and not (k == "alerts_page" and v == 1)})


def alerts_panel_context(request: HttpRequest, incident: Incident, *, view: AlertsView | None = None,
                         counts: selectors.AlertCounts | None = None) -> dict[str, Any]:
    """What the alerts panel needs (the incident page, and the panel's own fragment): the counts by
    state, one page of at most PAGE_SIZE alerts and the links around it. Its size does not grow with
    the number of alerts. Bad query parameters show as an error in the panel (the fragment view
    answers them with 400 before getting here)."""
    error = ""
    if view is None:
        try:
            view = AlertsView.from_query(request.GET)
        except ApplicationError as exc:
            view, error = AlertsView(), exc.message
    counts = counts or _counts(request, incident)
    shown_view = view

    def rows() -> dict[str, Any]:
        """One page of alerts, its rows rendered: the same for every viewer of this version."""
        page = selectors.alert_page_for_incident(
            user=request.user, incident=incident, counts=counts, state=shown_view.state, terms=shown_view.terms,
            page=shown_view.page, per_page=PAGE_SIZE,
        )
        html = render_to_string(ALERT_ROWS, {"rows": [AlertRow.of(alert) for alert in page.alerts]})
        return {"rows_html": html, "shown": len(page.alerts), "matching": page.matching, "number": page.number,
                "pages": page.pages}

    # The counts' version changes with every change to an alert of the incident (AlertCounts).
    page = fragments.cached(("alerts", incident.key, counts.version, view.query()), rows)
    fragment = reverse("alertmanager:incident-alerts", args=[incident.pk])
    full = reverse("incidents:detail", args=[incident.pk])

    def link(**change: Any) -> dict[str, str]:
        """hx-get to the fragment, href to the incident page: the same view with or without JS."""
        query = view.query(**change)
        suffix = f"?{query}" if query else ""
        return {"hx": fragment + suffix, "href": full + suffix + "#alerts"}

    current = view.query(alerts_page=page["number"])
    return {
        "incident": incident,
        "counts": counts,
        "page": page,
        "view": view,
        "error": error,
        "per_page": PAGE_SIZE,
        "first_shown": (page["number"] - 1) * PAGE_SIZE + 1 if page["shown"] else 0,
        "last_shown": (page["number"] - 1) * PAGE_SIZE + page["shown"],
        "state_links": [
            {"label": label, "count": count, "active": view.state == state, **link(alerts_state=state, alerts_page=1)}
            for state, label, count in (("", "All", counts.total), (AlertStatus.FIRING, "Firing", counts.firing),
                                        (AlertStatus.RESOLVED, "Resolved", counts.resolved))
        ],
        "newer": link(alerts_page=page["number"] - 1) if page["number"] > 1 else None,
        "older": link(alerts_page=page["number"] + 1) if page["number"] < page["pages"] else None,
        "clear_search": link(alerts_q="", alerts_page=1) if view.search else None,
        "fragment_url": fragment,
        "page_url": full,
        # The poll asks for the page it shows, with the version it has: 204 while nothing changed.
        "poll_url": fragment + "?" + urlencode({**dict(parse_qsl(current)), "since": counts.version}),
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


def _counts(request: HttpRequest, incident: Incident) -> selectors.AlertCounts:
    """Read once per page (``memo.scope``): the shared-panel key and the panel both need them."""
    return memo.get(("alertmanager.counts", incident.pk),
                    lambda: selectors.alert_counts_for_incident(user=request.user, incident=incident))


def _alerts_shared(request: HttpRequest, incident: Incident) -> tuple[object, ...]:
    """The same for everyone at this version of the alerts and this view (the query string)."""
    return (_counts(request, incident).version, request.GET.urlencode())


def register() -> None:
    registry.add_incident_panel(IncidentPanel("alerts", ALERTS_PANEL, alerts_panel_context, order=10,
                                              shared=_alerts_shared))
    registry.add_incident_panel(IncidentPanel("silences", SILENCE_PANEL, silence_panel_context, order=20))
    registry.add_dashboard_panel(DashboardPanel("maintenance", MAINTENANCE_NOTICE, maintenance_notice_context))
    registry.add_nav_entry(NavEntry("Integrations", "alertmanager:list", current=("integrations", "maintenance"),
                                    order=30))
