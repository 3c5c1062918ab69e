"""What integrations add to the core: panels on the incident page and the dashboard, navigation
entries, message channels, demo data and what runs when an incident opens (docs/architecture.md section 6).

The core imports no integration. Each integration's ``AppConfig.ready()`` registers its pieces
here, and the core's pages render whatever is registered, in ``order``. Slack, PagerDuty, email
and runbooks plug in the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.template.loader import render_to_string

from opsportal.lib import fragments

from .models import Incident, Service
from .notifications.channels import MessageChannel

log = logging.getLogger(__name__)


# htmx events (``HX-Trigger``) that keep the incident page's sections in step without a reload:
# the core's actions (acknowledge, resolve...) send INCIDENT_CHANGED, on which panels refresh
# (``hx-trigger="every 15s, incident-changed from:body"``); a panel's own action that adds timeline
# events (escalate now) sends TIMELINE_CHANGED, on which the core's timeline refreshes.
INCIDENT_CHANGED = "incident-changed"
TIMELINE_CHANGED = "timeline-changed"


@dataclass(frozen=True)
class IncidentPanel:
    """A section of the incident page: ``template`` rendered with ``context(request, incident)``.

    ``shared``, when given, names what the rendered panel depends on besides the incident (a
    version, say): a panel that is the same for everyone who sees that (but the CSRF token of its
    forms) is drawn once per process and version and reused (``opsportal.lib.fragments``)."""

    name: str
    template: str
    context: Callable[[HttpRequest, Incident], dict[str, Any]]
    order: int = 100
    shared: Callable[[HttpRequest, Incident], tuple[object, ...]] | None = None

    def html(self, request: HttpRequest, incident: Incident) -> str:
        """The panel for this reader: drawn now, or (``shared``) reused from whoever drew it first."""
        if self.shared is None:
            return render_to_string(self.template, self.context(request, incident), request=request)

        def draw(extra: dict[str, Any]) -> str:
            # Messages belong to the reader: they show at the top of the page, never in a shared panel.
            return render_to_string(self.template, {**self.context(request, incident), "messages": [], **extra},
                                    request=request)

        parts = ("panel", self.name, incident.pk, *self.shared(request, incident))
        return fragments.shared_html(parts, request, draw)


@dataclass(frozen=True)
class DashboardPanel:
    """A notice above the incident list: ``template`` rendered with ``context(request)``."""

    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100


@dataclass(frozen=True)
class NavEntry:
    """A link in the top bar. ``current`` lists the page ``nav`` values that mark it as current."""

    label: str
    url_name: str
    current: tuple[str, ...] = ()
    order: int = 100
    staff_only: bool = False


@dataclass(frozen=True)
class DemoContext:
    """What the core's demo data made, for integrations to build on."""

    admin: AbstractBaseUser
    services: dict[str, Service]
    now: datetime


@dataclass(frozen=True)
class DemoResult:
    """What an integration's demo seeder made: a phrase for the summary line and lines for the
    startup banner (printed on every `make run`, so they must hold no secret that changes)."""

    summary: str
    banner: list[str] = field(default_factory=list)


DemoSeeder = Callable[[DemoContext], DemoResult]
# Called inside incident_open's transaction with the new incident (runbook triggers start runs).
IncidentHook = Callable[[Incident], None]


class Registry:
    def __init__(self) -> None:
        self.incident_panels: list[IncidentPanel] = []
        self.dashboard_panels: list[DashboardPanel] = []
        self.nav_entries: list[NavEntry] = []
        self.demo_seeders: list[tuple[int, DemoSeeder]] = []
        self.message_channels: list[MessageChannel] = []
        self.incident_opened_hooks: list[IncidentHook] = []

    def add_incident_panel(self, panel: IncidentPanel) -> None:
        self._add(self.incident_panels, panel)

    def add_dashboard_panel(self, panel: DashboardPanel) -> None:
        self._add(self.dashboard_panels, panel)

    def add_nav_entry(self, entry: NavEntry) -> None:
        self._add(self.nav_entries, entry)

    def add_message_channel(self, channel: MessageChannel) -> None:
        """A channel the outbox sends to (docs/architecture.md section 4)."""
        if all(existing.name != channel.name for existing in self.message_channels):
            self.message_channels.append(channel)
            self.message_channels.sort(key=lambda c: c.order)

    def message_channel(self, name: str) -> MessageChannel | None:
        return next((c for c in self.message_channels if c.name == name), None)

    def add_demo_seeder(self, seeder: DemoSeeder, *, order: int = 100) -> None:
        if all(existing is not seeder for _, existing in self.demo_seeders):
            self.demo_seeders.append((order, seeder))
            self.demo_seeders.sort(key=lambda pair: pair[0])

    def add_incident_opened_hook(self, hook: IncidentHook) -> None:
        """``hook(incident)`` runs in the transaction that opened the incident, after its timeline
        event: a hook that raises is logged and the incident still opens. A hook wraps its writes in
        a savepoint of its own (``transaction.atomic()``), so a failed write undoes only them; one
        that only reads costs no savepoint on every incident a storm opens."""
        if all(existing is not hook for existing in self.incident_opened_hooks):
            self.incident_opened_hooks.append(hook)

    def incident_opened(self, incident: Incident) -> None:
        for hook in self.incident_opened_hooks:
            try:
                hook(incident)
            except Exception:  # noqa: BLE001 - an add-on's failure must not stop an incident opening
                log.exception("incident-opened hook %s failed", getattr(hook, "__qualname__", hook))

    @staticmethod
    def _add(items: list[Any], item: Any) -> None:
        """Idempotent (``ready()`` may run twice in tests) and kept in ``order``."""
        if item not in items:
            items.append(item)
            items.sort(key=lambda x: x.order)


registry = Registry()
