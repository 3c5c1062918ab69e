"""Which targets of a channel hear about an incident: every enabled route matching its service and
severity; with none, the channel's default targets from settings. A channel may add targets of
its own for an incident (``MessageChannel.incident_targets``)."""

from __future__ import annotations

from django.db import transaction

from incidents.models import Incident, Service, Severity
from incidents.registry import registry
from opsportal.lib import memo
from opsportal.lib.exceptions import ApplicationError, NotFoundError

from .channels import MessageChannel
from .models import TARGET_MAX, Route


def route_matches(route: Route, incident: Incident) -> bool:
    if route.service_id is not None and route.service_id != incident.service_id:
        return False
    severities = {s.pk for s in route.severities.all()}
    return not severities or incident.severity_id in severities


def enabled_routes() -> dict[str, list[Route]]:
    """Every enabled route by channel name, severities included: two queries for all channels,
    kept for about a second (``memo.config``)."""
    def load() -> dict[str, list[Route]]:
        routes: dict[str, list[Route]] = {}
        for route in Route.objects.filter(enabled=True).prefetch_related("severities").order_by("id"):
            routes.setdefault(route.channel, []).append(route)
        return routes

    return memo.config("notifications.routes", load)


def targets_for(incident: Incident, channel: MessageChannel,
                routes: dict[str, list[Route]] | None = None) -> list[str]:
    """The channel's targets for ``incident``; ``routes`` is :func:`enabled_routes` when the caller
    has it."""
    if routes is None:
        routes = enabled_routes()
    matching = (r for r in routes.get(channel.name, []) if route_matches(r, incident))
    targets = list(dict.fromkeys(r.target for r in matching))
    targets = targets or [t for t in channel.sender.default_targets() if t]
    if channel.incident_targets is not None:
        targets += [t for t in channel.incident_targets(incident) if t and t not in targets]
    return targets


@transaction.atomic
def route_create(*, channel: str, target: str, service: Service | None = None,
                 severities: list[Severity] | None = None) -> Route:
    """A route for ``channel``; ApplicationError naming the field for an unknown channel or an
    empty or oversized target."""
    if registry.message_channel(channel) is None:
        known = ", ".join(c.name for c in registry.message_channels) or "none installed"
        raise ApplicationError(f"Unknown channel “{channel}” (channels: {known}).", code="invalid",
                               extra={"field": "channel"})
    target = (target or "").strip()
    if not target:
        raise ApplicationError("Say where to send: a Slack channel id, a routing key or emails.",
                               code="invalid", extra={"field": "target"})
    if len(target) > TARGET_MAX:
        raise ApplicationError(f"The target is longer than {TARGET_MAX} characters.", code="invalid",
                               extra={"field": "target"})
    route = Route.objects.create(channel=channel, target=target, service=service)
    route.severities.set(severities or [])
    return route


@transaction.atomic
def route_delete(*, route: Route | int) -> None:
    pk = route.pk if isinstance(route, Route) else route
    deleted, _ = Route.objects.filter(pk=pk).delete()
    if not deleted:
        raise NotFoundError(f"Route #{pk} does not exist.")
