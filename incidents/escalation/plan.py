""""What happens next": an incident's escalation as steps, past and to come (docs/escalation.md).

Computed from the snapshot the incident follows and its timeline: a sent step is an "escalated"
event of the current run (since it opened or was last reopened); pending steps follow from the
next due time and the snapshot's delays, each resolved to the people it would reach at its time
(through the schedules then); when an acknowledgement or resolution stopped the escalation, the
steps that would have come are listed as cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from incidents.models import EventKind, Incident, Status, TimelineEvent
from opsportal.lib import memo

from . import reach
from .snapshot import PolicySnapshot

# Sent steps and pages by hand shown: the newest; the earlier ones are counted (the timeline has
# them all). Pending steps shown at most: a 20-level policy repeated 10 times is 220, nobody reads
# that far ahead. So the plan's size stops growing however long an incident escalates.
SENT_SHOWN = 20
PAGES_SHOWN = 10
PENDING_MAX = 30


@dataclass
class Plan:
    policy: str | None
    policy_id: int | None
    level: int
    repeat: int
    next_at: datetime | None
    steps: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    earlier_steps: int = 0  # sent steps of this run before the ones in ``steps``
    earlier_pages: int = 0

    @property
    def next_step(self) -> dict[str, Any] | None:
        return next((s for s in self.steps if s["status"] == "pending"), None)

    def to_json(self) -> dict[str, Any]:
        def iso(step: dict[str, Any]) -> dict[str, Any]:
            return {**step, "at": step["at"].isoformat() if step["at"] else None}

        return {
            "policy": self.policy, "policy_id": self.policy_id, "level": self.level, "repeat": self.repeat,
            "next_at": self.next_at.isoformat() if self.next_at else None,
            "steps": [iso(s) for s in self.steps], "pages": [iso(p) for p in self.pages],
            "earlier_steps": self.earlier_steps, "earlier_pages": self.earlier_pages,
        }


def plan_version(incident: Incident, *, now: datetime | None = None) -> str:
    """A token that changes whenever the panel drawn from ``escalation_plan`` could: the incident's
    escalation state, its newest escalated or reopened event (the partial index
    timeline_incident_escalation: one entry read) and the minute, since who a pending step reaches
    follows the schedules' rotations over time. The panel's poll answers 204 while it holds."""
    now = now or timezone.now()
    latest = memo.get(("escalation.latest_event", incident.pk), lambda: (
        TimelineEvent.objects.filter(incident=incident, kind__in=[EventKind.REOPENED, EventKind.ESCALATED])
        .order_by("-created_at", "-id").values_list("id", flat=True).first()))
    stamps = (incident.updated_at, incident.next_escalation_at, incident.opened_at)
    parts = [incident.status, incident.escalation_level, incident.escalation_repeat, incident.escalation_policy_id,
             *(int(t.timestamp() * 1_000_000) if t else 0 for t in stamps), latest or 0,
             int(now.timestamp() // 60)]
    return ".".join(str(p) for p in parts)


def _newest(events: QuerySet[TimelineEvent], shown: int) -> tuple[list[TimelineEvent], int]:
    """The newest ``shown`` of ``events``, oldest first, and how many came before them."""
    newest = list(events.select_related("actor").order_by("-created_at", "-id")[:shown])
    earlier = events.count() - len(newest) if len(newest) == shown else 0
    return newest[::-1], earlier


def escalation_plan(incident: Incident, *, now: datetime | None = None) -> Plan:
    now = now or timezone.now()
    snapshot = PolicySnapshot.load(incident.escalation_snapshot)
    # The escalation's current run: since it opened or was last reopened (index timeline_incident_created).
    started = (incident.events.filter(kind=EventKind.REOPENED).order_by("-created_at")
               .values_list("created_at", flat=True).first()) or incident.opened_at
    run = incident.events.filter(kind=EventKind.ESCALATED, created_at__gte=started)
    page_events, earlier_pages = _newest(run.filter(data__page=True), PAGES_SHOWN)
    pages = [_sent(e) for e in page_events]
    if snapshot is None:
        return Plan(None, None, 0, 0, None, [], pages, earlier_pages=earlier_pages)
    # Levels paged carry "page": false and their level (the "nobody paged" note has neither).
    step_events, earlier_steps = _newest(run.filter(data__page=False, data__level__gte=1), SENT_SHOWN)
    steps = [_sent(e) for e in step_events]
    latest = max((e.created_at for e in step_events + page_events), default=None)
    waiting = incident.status == Status.TRIGGERED and incident.next_escalation_at is not None
    cursor: datetime = (incident.next_escalation_at if waiting and incident.next_escalation_at
                        else latest or incident.opened_at)
    level, repeat = incident.escalation_level, incident.escalation_repeat
    first = True
    # One resolver for every pending step: the people and schedules are read once, not per step.
    resolver = reach.Resolver((t for lv in snapshot.levels for t in lv.targets), since=now) if waiting else None
    for _ in range(PENDING_MAX):
        step = snapshot.following(level, repeat)
        if step is None:
            break
        if not (waiting and first):
            cursor = cursor + timedelta(seconds=step.delay_seconds)
        first = False
        targets = snapshot.levels[step.level - 1].targets
        at = max(cursor, now) if waiting else cursor
        if resolver is not None:
            resolved = resolver.resolve(targets, at=at)
            described, gaps = resolved.targets, resolved.gaps
        else:
            described = [reach.describe(t) for t in targets]
            gaps = []
        steps.append({"level": step.level, "repeat": step.repeat, "at": cursor, "targets": described,
                      "gaps": gaps, "status": "pending" if waiting else "cancelled", "by": None, "reason": None})
        level, repeat = step.level, step.repeat
    return Plan(snapshot.name, snapshot.policy_id, incident.escalation_level, incident.escalation_repeat,
                incident.next_escalation_at if waiting else None, steps, pages,
                earlier_steps=earlier_steps, earlier_pages=earlier_pages)


def _sent(event: TimelineEvent) -> dict[str, Any]:
    data = event.data or {}
    return {
        "level": data.get("level"), "repeat": data.get("repeat", 0), "at": event.created_at,
        "targets": data.get("targets", []), "gaps": data.get("gaps", []), "status": "sent",
        "by": event.actor.get_username() if event.actor else event.get_source_display(),
        "reason": data.get("reason"),
    }
