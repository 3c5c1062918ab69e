"""The deliveries panel of the incident page (registered with ``incidents.registry``): what was
sent where, what is waiting, what failed and why, and what a message would look like on a channel
that is not configured yet.

The panel costs the same with 3 deliveries or 3,000: the counts by status come from one aggregate,
the table shows one page of PAGE_SIZE rows (newest first, or one status), and a sent message's text
is fetched only when someone opens it (``views.delivery_preview``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict
from django.urls import reverse

from incidents.models import Incident
from incidents.registry import IncidentPanel, NavEntry, registry
from opsportal.lib import memo, stamps
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.views import url_for_each

from . import selectors
from .models import Delivery

DELIVERIES_PANEL = "notifications/_deliveries_panel.html"
PAGE_SIZE = 10
MAX_PAGE = 1_000_000
RETRYABLE = (Delivery.Status.FAILED, Delivery.Status.DEAD)


@dataclass(frozen=True)
class DeliveriesView:
    """Which deliveries the panel shows, from the query string. The names carry a ``deliveries_``
    prefix because the incident page takes them too (the pager's links work without JS)."""

    status: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: QueryDict) -> DeliveriesView:
        """Raises ApplicationError (400) naming the parameter that cannot be read."""
        status = params.get("deliveries_status", "")
        if status and status not in selectors.STATUSES:
            raise ApplicationError(f"deliveries_status must be one of: {', '.join(selectors.STATUSES)}.",
                                   extra={"field": "deliveries_status"})
        raw_page = params.get("deliveries_page", "") or "1"
        if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
            raise ApplicationError(f"deliveries_page must be a page number from 1 to {MAX_PAGE}.",
                                   extra={"field": "deliveries_page"})
        return cls(status=status, page=int(raw_page))

    def query(self, **change: Any) -> str:
        values = {"deliveries_status": self.status, "deliveries_page": self.page, **change}
        return urlencode({k: v for k, v in values.items() if v and not (k == "deliveries_page" and v == 1)})


@dataclass(frozen=True)
class DeliveryRow:
    """One row of the table, with what the template prints already worked out."""

    delivery: Delivery
    channel_label: str
    target_shown: str
    created_iso: str
    created_text: str
    sent_iso: str
    retry_iso: str
    preview_url: str
    retry_url: str  # empty: not retryable

    @classmethod
    def of(cls, delivery: Delivery, *, preview_url: Callable[[int], str], retry_url: Callable[[int], str],
           query: str = "") -> DeliveryRow:
        """``query``: the panel's view, which "Retry now" shows again after retrying."""
        channel = registry.message_channel(delivery.channel)
        label, target = ((channel.label, channel.display_target(delivery.target)) if channel is not None
                         else (delivery.channel, delivery.target))  # an integration since removed
        return cls(
            delivery, label, target, stamps.iso(delivery.created_at), stamps.short(delivery.created_at),
            stamps.iso(delivery.sent_at), stamps.iso(delivery.next_attempt_at), preview_url(delivery.pk),
            retry_url(delivery.pk) + (f"?{query}" if query else "") if delivery.status in RETRYABLE else "",
        )


def deliveries_panel_context(request: HttpRequest, incident: Incident, *, view: DeliveriesView | None = None,
                             counts: selectors.DeliveryCounts | None = None) -> dict[str, Any]:
    """What the panel needs, on the incident page and as its own fragment. Bad query parameters
    show as an error in the panel (the fragment view answers them with 400 before getting here)."""
    error = ""
    if view is None:
        try:
            view = DeliveriesView.from_query(request.GET)
        except ApplicationError as exc:
            view, error = DeliveriesView(), exc.message
    counts = counts or _counts(request, incident)
    page = selectors.delivery_page_for_incident(user=request.user, incident=incident, counts=counts,
                                                status=view.status, page=view.page, per_page=PAGE_SIZE)
    fragment = reverse("notifications:incident-deliveries", args=[incident.pk])
    full = reverse("incidents:detail", args=[incident.pk])

    def link(**change: Any) -> dict[str, str]:
        """hx-get to the fragment, href to the incident page: the same view with or without JS."""
        query = view.query(**change)
        suffix = f"?{query}" if query else ""
        return {"hx": fragment + suffix, "href": full + suffix + "#deliveries"}

    shown = view.query(deliveries_page=page.number)
    preview_url = url_for_each("notifications:delivery-preview")
    retry_url = url_for_each("notifications:delivery-retry")
    return {
        "incident": incident,
        "deliveries": [DeliveryRow.of(d, preview_url=preview_url, retry_url=retry_url, query=shown)
                       for d in page.deliveries],
        "counts": counts,
        "total": counts.total,
        "page": page,
        "view": view,
        "error": error,
        "first_shown": (page.number - 1) * PAGE_SIZE + 1 if page.deliveries else 0,
        "last_shown": (page.number - 1) * PAGE_SIZE + len(page.deliveries),
        "status_links": [
            {"status": status, "count": counts.by_status[status], "active": view.status == status,
             **link(deliveries_status="" if view.status == status else status, deliveries_page=1)}
            for status in selectors.STATUSES if counts.by_status.get(status)
        ],
        "all_link": link(deliveries_status="", deliveries_page=1) if view.status else None,
        "newer": link(deliveries_page=page.number - 1) if page.number > 1 else None,
        "older": link(deliveries_page=page.number + 1) if page.number < page.pages else None,
        # The poll asks for the page it shows, with the version it has: 204 while nothing changed.
        "poll_url": fragment + "?" + "&".join(filter(None, [shown, urlencode({"since": counts.version})])),
        "channels": registry.message_channels,
    }


def _counts(request: HttpRequest, incident: Incident) -> selectors.DeliveryCounts:
    """Read once per page (``memo.scope``): the shared-panel key and the panel both need them."""
    return memo.get(("notifications.counts", incident.pk),
                    lambda: selectors.delivery_counts_for_incident(user=request.user, incident=incident))


def _shared(request: HttpRequest, incident: Incident) -> tuple[object, ...]:
    """The same for everyone at this version of the deliveries and this view (but the CSRF token
    of the retry forms)."""
    return (_counts(request, incident).version, request.GET.urlencode())


def register() -> None:
    registry.add_incident_panel(IncidentPanel("deliveries", DELIVERIES_PANEL, deliveries_panel_context, order=40,
                                              shared=_shared))
    registry.add_nav_entry(NavEntry("Notifications", "notifications:templates", current=("notifications",), order=40))
