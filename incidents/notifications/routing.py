"""Which targets of a channel hear about an incident: every enabled route matching its service and
severity; with none, the channel's default targets from settings. A channel may add targets of
its own for an incident (``MessageChannel.incident_targets``)."""

from __future__ import annotations

from incidents.models import Incident

from .channels import MessageChannel
from .models import Route


def route_matches(route: Route, incident: Incident) -> bool:
    if route.service_id is not None and route.service_id != incident.service_id:
        return False
    severities = {s.pk for s in route.severities.all()}
    return not severities or incident.severity_id in severities


def targets_for(incident: Incident, channel: MessageChannel) -> list[str]:
    routes = Route.objects.filter(channel=channel.name, enabled=True).prefetch_related("severities")
    targets = list(dict.fromkeys(r.target for r in routes if route_matches(r, incident)))
    targets = targets or [t for t in channel.sender.default_targets() if t]
    if channel.incident_targets is not None:
        targets += [t for t in channel.incident_targets(incident) if t and t not in targets]
    return targets
