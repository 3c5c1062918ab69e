"""The deliveries panel of the incident page (registered with ``incidents.registry``): what was
sent where, what is waiting, what failed and why, and what a message would look like on a channel
that is not configured yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from incidents.models import Incident
from incidents.registry import IncidentPanel, NavEntry, registry

from . import selectors
from .models import Delivery

DELIVERIES_PANEL = "notifications/_deliveries_panel.html"


@dataclass(frozen=True)
class DeliveryRow:
    delivery: Delivery
    channel_label: str
    target_shown: str

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryRow:
        channel = registry.message_channel(delivery.channel)
        if channel is None:  # an integration since removed: show what is stored
            return cls(delivery, delivery.channel, delivery.target)
        return cls(delivery, channel.label, channel.display_target(delivery.target))


def deliveries_panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    deliveries = selectors.delivery_list_for_incident(user=request.user, incident=incident)[: selectors.PANEL_ROWS]
    counts = selectors.delivery_counts_for_incident(user=request.user, incident=incident)
    rows = [DeliveryRow.of(d) for d in deliveries]
    return {
        "incident": incident,
        "deliveries": rows,
        "counts": counts,
        "total": sum(counts.values()),
        "shown": len(rows),
        "retryable": (Delivery.Status.FAILED, Delivery.Status.DEAD),
        "channels": registry.message_channels,
    }


def register() -> None:
    registry.add_incident_panel(IncidentPanel("deliveries", DELIVERIES_PANEL, deliveries_panel_context, order=40))
    registry.add_nav_entry(NavEntry("Notifications", "notifications:templates", current=("notifications",), order=40))
