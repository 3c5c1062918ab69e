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

from django.utils import timezone

from incidents.models import EventKind, Incident, Status, TimelineEvent

from . import reach
from .snapshot import PolicySnapshot

# Steps shown at most (a 20-level policy repeated 10 times is 220; nobody reads that far ahead).
STEPS_MAX = 50


@dataclass
class Plan:
    policy: str | None
    policy_id: int | None
    level: int
    repeat: int
    next_at: datetime | None
    steps: list[dict[str, Any]]
    pages: list[dict[str, Any]]

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
        }


def _run_events(incident: Incident) -> list[TimelineEvent]:
    """The escalated events since the escalation last (re)started: one query for both kinds, as
    both are rare beside an incident's other events (index timeline_incident_created)."""
    events = list(incident.events.filter(kind__in=[EventKind.REOPENED, EventKind.ESCALATED])
                  .select_related("actor").order_by("created_at", "id"))
    started = max((e.created_at for e in events if e.kind == EventKind.REOPENED), default=incident.opened_at)
    return [e for e in events if e.kind == EventKind.ESCALATED and e.created_at >= started]


def escalation_plan(incident: Incident, *, now: datetime | None = None) -> Plan:
    now = now or timezone.now()
    snapshot = PolicySnapshot.load(incident.escalation_snapshot)
    events = _run_events(incident)
    pages = [_sent(e) for e in events if e.data.get("page")]
    if snapshot is None:
        return Plan(None, None, 0, 0, None, [], pages)
    steps = [_sent(e) for e in events if not e.data.get("page") and e.data.get("level")]
    waiting = incident.status == Status.TRIGGERED and incident.next_escalation_at is not None
    cursor: datetime = (incident.next_escalation_at if waiting and incident.next_escalation_at
                        else events[-1].created_at if events else incident.opened_at)
    level, repeat = incident.escalation_level, incident.escalation_repeat
    first = True
    lookups = reach.Lookups(since=now)  # every pending step is at or after now
    while len(steps) < STEPS_MAX:
        step = snapshot.following(level, repeat)
        if step is None:
            break
        if not (waiting and first):
            cursor = cursor + timedelta(seconds=step.delay_seconds)
        first = False
        targets = snapshot.levels[step.level - 1].targets
        at = max(cursor, now) if waiting else cursor
        if waiting:
            resolved = reach.resolve(targets, at=at, lookups=lookups)
            described, gaps = resolved.targets, resolved.gaps
        else:
            described = [reach.describe(t) for t in targets]
            gaps = []
        steps.append({"level": step.level, "repeat": step.repeat, "at": cursor, "targets": described,
                      "gaps": gaps, "status": "pending" if waiting else "cancelled", "by": None, "reason": None})
        level, repeat = step.level, step.repeat
    return Plan(snapshot.name, snapshot.policy_id, incident.escalation_level, incident.escalation_repeat,
                incident.next_escalation_at if waiting else None, steps, pages)


def _sent(event: TimelineEvent) -> dict[str, Any]:
    data = event.data or {}
    return {
        "level": data.get("level"), "repeat": data.get("repeat", 0), "at": event.created_at,
        "targets": data.get("targets", []), "gaps": data.get("gaps", []), "status": "sent",
        "by": event.actor.get_username() if event.actor else event.get_source_display(),
        "reason": data.get("reason"),
    }
