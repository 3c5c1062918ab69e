"""The only place incident state changes (docs/architecture.md section 1).

Every function locks the incident row, checks the transition against ``ALLOWED``, writes the new
state, its timestamp, the SLA deadlines and a ``TimelineEvent`` in one transaction, and counts the
change in the metrics once the transaction commits. Web views, the API, webhooks and tasks all call
these functions; none of them writes ``Incident.status``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from opsportal.lib import bulk, memo
from opsportal.lib.actors import Actor, stored_user
from opsportal.lib.durations import format_duration
from opsportal.lib.exceptions import ApplicationError, ConflictError, NotFoundError
from opsportal.lib.metrics import SLA_BREACHES, TRANSITIONS

from .escalation import policies as escalation_policies
from .escalation import reach
from .escalation.models import EscalationPolicy
from .escalation.snapshot import PolicySnapshot, Target
from .models import (
    DESCRIPTION_MAX,
    LABELS_MAX_BYTES,
    OPEN_STATUSES,
    TITLE_MAX,
    EventKind,
    Incident,
    Service,
    Severity,
    Source,
    Status,
    TimelineEvent,
)
from .notifications import outbox
from .registry import registry

S = Status
# action -> statuses it may start from. Acknowledge and resolve work from any open state that
# has not already passed them; notes are allowed until the incident is closed.
ALLOWED: dict[str, tuple[str, ...]] = {
    "acknowledge": (S.TRIGGERED,),
    "mitigate": (S.TRIGGERED, S.ACKNOWLEDGED),
    "resolve": OPEN_STATUSES,
    "reopen": (S.RESOLVED,),
    "close": (S.RESOLVED,),
    "assign": OPEN_STATUSES + (S.RESOLVED,),
    "change_severity": OPEN_STATUSES + (S.RESOLVED,),
    "note": OPEN_STATUSES + (S.RESOLVED,),
}


def _check(incident: Incident, action: str) -> None:
    if incident.status not in ALLOWED[action]:
        verb = action.replace("_", " ")
        raise ConflictError(
            f"Cannot {verb} incident #{incident.pk}: it is {incident.get_status_display().lower()}.",
            code="illegal_transition",
            extra={"status": incident.status, "action": action},
        )


def _locked(incident: Incident | int) -> Incident:
    pk = incident.pk if isinstance(incident, Incident) else incident
    try:
        return Incident.objects.select_for_update().select_related("severity").get(pk=pk)
    except Incident.DoesNotExist:
        raise NotFoundError(f"Incident #{pk} does not exist.") from None


def _record(
    incident: Incident,
    kind: str,
    *,
    actor: Actor,
    source: str,
    message: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    targets: Sequence[tuple[str, str]] | None = None,
) -> TimelineEvent:
    """The timeline event and its outbox deliveries: to the routes, or only to ``targets``
    ((channel, target) pairs; an escalation names whom it pages)."""
    [event] = bulk.insert_objects([TimelineEvent(
        incident=incident,
        kind=kind,
        actor=stored_user(actor),
        source=source,
        message=message,
        data=data or {},
        created_at=at or timezone.now(),
    )])
    transaction.on_commit(lambda: TRANSITIONS.labels(kind, source).inc())
    outbox.deliveries_for_event(event, targets=targets)
    return event


def _validate_text(*, title: str | None = None, description: str | None = None) -> None:
    if title is not None:
        if not title.strip():
            raise ApplicationError("Title must not be empty.", code="invalid", extra={"field": "title"})
        if len(title) > TITLE_MAX:
            raise ApplicationError(
                f"Title is {len(title)} characters; the limit is {TITLE_MAX}.",
                code="invalid",
                extra={"field": "title"},
            )
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise ApplicationError(
            f"Description is {len(description)} characters; the limit is {DESCRIPTION_MAX}.",
            code="invalid",
            extra={"field": "description"},
        )


def validate_labels(labels: Any) -> dict[str, str]:
    """Labels are a flat string -> string map of bounded size (they become chips and matchers)."""
    import json

    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise ApplicationError("Labels must be an object of string keys to string values.", code="invalid",
                               extra={"field": "labels"})
    if len(json.dumps(labels)) > LABELS_MAX_BYTES:
        raise ApplicationError(f"Labels are larger than {LABELS_MAX_BYTES} bytes.", code="invalid",
                               extra={"field": "labels"})
    return labels


@transaction.atomic
def incident_open(
    *,
    title: str,
    severity: Severity,
    source: str,
    actor: Actor = None,
    description: str = "",
    service: Service | None = None,
    labels: dict[str, str] | None = None,
    group_key: str | None = None,
    opened_at: datetime | None = None,
    escalation_policy: EscalationPolicy | None = None,
    details: str = "",
    data: dict[str, Any] | None = None,
) -> Incident:
    """Declare an incident, start its SLA clocks and its escalation (``escalation_policy``, else
    the service's, else the default policy: docs/escalation.md).

    ``details`` and ``data`` complete the "opened" timeline entry (an Alertmanager group names the
    alerts it opened with, so the timeline and the Slack thread say it once).

    ``group_key`` makes the incident the open incident of an alert group; a second open incident
    for the same group violates a database constraint (callers that group use get-or-create).
    """
    _validate_text(title=title, description=description)
    labels = validate_labels(labels or {})
    now = opened_at or timezone.now()
    response_due, resolve_due = severity.deadlines(now)
    [incident] = bulk.insert_objects([Incident(
        title=title.strip(),
        description=description,
        severity=severity,
        service=service,
        labels=labels,
        source=source,
        group_key=group_key,
        created_by=stored_user(actor),
        opened_at=now,
        response_due_at=response_due,
        resolve_due_at=resolve_due,
    )])
    memo.put(("incidents.opened_here", incident.pk), True)  # nothing refers to it yet: no lookups needed
    _record(incident, EventKind.OPENED, actor=actor, source=source,
            message=f"Opened as {severity.name} {severity.label}." + (f" {details}" if details else ""),
            data={**(data or {}), "severity": severity.name}, at=now)
    registry.incident_opened(incident)
    _escalation_start(incident, escalation_policies.policy_for(service=service, explicit=escalation_policy), now)
    return incident


@transaction.atomic
def incident_acknowledge(*, incident: Incident | int, actor: Actor, source: str, note: str = "") -> Incident:
    """Stop the response clock. A second acknowledgement is a conflict, not a no-op, so the
    person who lost the race is told who won. ``note`` words the timeline entry (a webhook names
    who acknowledged elsewhere when they are no Opsportal user)."""
    incident = _locked(incident)
    if incident.status == S.ACKNOWLEDGED:
        who = _last_actor_name(incident, EventKind.ACKNOWLEDGED)
        raise ConflictError(
            f"Incident #{incident.pk} is already acknowledged{f' by {who}' if who else ''}.",
            code="already_acknowledged",
        )
    _check(incident, "acknowledge")
    _validate_text(description=note)
    now = timezone.now()
    incident.status = S.ACKNOWLEDGED
    incident.acknowledged_at = now
    incident.next_escalation_at = None  # in this transaction: no level is paged after the ack commits
    incident.save(update_fields=["status", "acknowledged_at", "next_escalation_at", "updated_at"])
    _record(incident, EventKind.ACKNOWLEDGED, actor=actor, source=source, message=note or "Acknowledged.",
            at=now)
    return incident


@transaction.atomic
def incident_mitigate(*, incident: Incident | int, actor: Actor, source: str, note: str = "") -> Incident:
    """Impact is contained; the resolution clock keeps running until resolved."""
    incident = _locked(incident)
    _check(incident, "mitigate")
    now = timezone.now()
    incident.status = S.MITIGATED
    incident.mitigated_at = now
    incident.acknowledged_at = incident.acknowledged_at or now
    incident.next_escalation_at = None
    incident.save(update_fields=["status", "mitigated_at", "acknowledged_at", "next_escalation_at", "updated_at"])
    _record(incident, EventKind.MITIGATED, actor=actor, source=source, message=note or "Mitigated.", at=now)
    return incident


@transaction.atomic
def incident_resolve(*, incident: Incident | int, actor: Actor, source: str, note: str = "") -> Incident:
    incident = _locked(incident)
    if incident.status == S.RESOLVED:
        raise ConflictError(f"Incident #{incident.pk} is already resolved.", code="already_resolved")
    _check(incident, "resolve")
    _validate_text(description=note)
    now = timezone.now()
    incident.status = S.RESOLVED
    incident.resolved_at = now
    incident.next_escalation_at = None
    incident.save(update_fields=["status", "resolved_at", "next_escalation_at", "updated_at"])
    _record(incident, EventKind.RESOLVED, actor=actor, source=source, message=note or "Resolved.", at=now)
    return incident


@transaction.atomic
def incident_reopen(*, incident: Incident | int, actor: Actor, source: str, reason: str = "") -> Incident:
    """Back to triggered: it must be acknowledged again, with a fresh response deadline.
    Breaches already recorded stay recorded (a breach is never un-said nor said twice)."""
    incident = _locked(incident)
    _check(incident, "reopen")
    now = timezone.now()
    incident.status = S.TRIGGERED
    incident.acknowledged_at = None
    incident.mitigated_at = None
    incident.resolved_at = None
    incident.response_due_at = now + incident.severity.response_target
    incident.save(update_fields=["status", "acknowledged_at", "mitigated_at", "resolved_at",
                                 "response_due_at", "updated_at"])
    _record(incident, EventKind.REOPENED, actor=actor, source=source, message=reason or "Reopened.", at=now)
    _escalation_restart(incident, now, reason="reopened")
    return incident


@transaction.atomic
def incident_close(*, incident: Incident | int, actor: Actor, source: str) -> Incident:
    """Closed incidents are history: nothing changes them any more."""
    incident = _locked(incident)
    _check(incident, "close")
    now = timezone.now()
    incident.status = S.CLOSED
    incident.closed_at = now
    incident.save(update_fields=["status", "closed_at", "updated_at"])
    _record(incident, EventKind.CLOSED, actor=actor, source=source, message="Closed.", at=now)
    return incident


@transaction.atomic
def incident_assign_commander(
    *, incident: Incident | int, commander: AbstractBaseUser | None, actor: Actor, source: str
) -> Incident:
    incident = _locked(incident)
    _check(incident, "assign")
    if commander is not None and not commander.is_active:
        raise ApplicationError(f"{commander} is not an active user.", code="invalid", extra={"field": "commander"})
    if incident.commander_id == (commander.pk if commander else None):
        return incident
    incident.commander = stored_user(commander)
    incident.save(update_fields=["commander", "updated_at"])
    name = commander.get_username() if commander else None
    _record(incident, EventKind.ASSIGNED, actor=actor, source=source,
            message=f"Commander: {name}." if name else "Commander unassigned.",
            data={"commander": name})
    return incident


@transaction.atomic
def incident_change_severity(
    *, incident: Incident | int, severity: Severity, actor: Actor, source: str
) -> Incident:
    """New severity, new deadlines, counted from when the incident opened (docs/architecture.md section 2)."""
    incident = _locked(incident)
    _check(incident, "change_severity")
    old = incident.severity
    if old.pk == severity.pk:
        return incident
    incident.severity = severity
    incident.response_due_at, incident.resolve_due_at = severity.deadlines(incident.opened_at)
    incident.save(update_fields=["severity", "response_due_at", "resolve_due_at", "updated_at"])
    _record(incident, EventKind.SEVERITY_CHANGED, actor=actor, source=source,
            message=f"Severity {old.name} → {severity.name}.",
            data={"from": old.name, "to": severity.name})
    return incident


@transaction.atomic
def incident_add_note(*, incident: Incident | int, text: str, actor: Actor, source: str) -> TimelineEvent:
    incident = _locked(incident)
    _check(incident, "note")
    if not text.strip():
        raise ApplicationError("A note must not be empty.", code="invalid", extra={"field": "text"})
    _validate_text(description=text)
    incident.save(update_fields=["updated_at"])
    return _record(incident, EventKind.NOTE, actor=actor, source=source, message=text.strip())


# Which clock a breach is of: (deadline column, breach column, statuses in which the clock runs).
SLA_CLOCKS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "response": ("response_due_at", "response_breached_at", (S.TRIGGERED,)),
    "resolution": ("resolve_due_at", "resolve_breached_at", OPEN_STATUSES),
}


@transaction.atomic
def incident_record_breach(*, incident: Incident | int, sla: str, at: datetime | None = None) -> bool:
    """Record that the ``sla`` ("response" or "resolution") deadline passed: the breach column, one
    timeline event and the breach counter. Returns False (and records nothing) when the clock
    has stopped, is not yet due, or the breach is already recorded, so a sweep that races an
    acknowledgement or another sweep never records a breach twice nor after the clock stopped."""
    due_field, breached_field, statuses = SLA_CLOCKS[sla]
    incident = _locked(incident)
    now = at or timezone.now()
    due: datetime = getattr(incident, due_field)
    if incident.status not in statuses or getattr(incident, breached_field) is not None or due > now:
        return False
    setattr(incident, breached_field, now)
    incident.save(update_fields=[breached_field, "updated_at"])
    severity = incident.severity
    target_delta = severity.response_target if sla == "response" else severity.resolution_target
    _record(incident, EventKind.SLA_BREACHED, actor=None, source=Source.SCHEDULER,
            message=(f"{sla.capitalize()} SLA breached: {severity.name} target {format_duration(target_delta, parts=2)} "
                     f"passed {format_duration(now - due, parts=2)} ago."),
            data={"sla": sla, "due_at": due.isoformat()}, at=now)
    name = severity.name
    transaction.on_commit(lambda: SLA_BREACHES.labels(name, sla).inc())
    snapshot = PolicySnapshot.load(incident.escalation_snapshot)
    if sla == "response" and snapshot is not None and snapshot.escalate_on_sla_breach:
        _escalate(incident, snapshot, now=now, actor=None, source=Source.SCHEDULER, reason="sla_breach")
    return True


# --- Escalation (docs/escalation.md) ---------------------------------------------------------------

ESCALATION_FIELDS = ["escalation_policy", "escalation_snapshot", "escalation_level", "escalation_repeat",
                     "next_escalation_at", "updated_at"]


@transaction.atomic
def incident_escalate(
    *, incident: Incident | int, reason: str, actor: Actor = None, source: str = Source.SCHEDULER,
    at: datetime | None = None,
) -> TimelineEvent | None:
    """Page the next level of the incident's policy snapshot now.

    ``reason="timeout"`` is the scheduler's tick: it acts only while the incident is unacknowledged
    and its level is due, checked under the row lock, and returns None otherwise; so an
    acknowledgement that committed first always wins, and one that waits for the lock follows the
    escalation on the timeline. Any other reason is a person's "escalate now": allowed while the
    incident is open, a ConflictError when there is no policy or no level left."""
    incident = _locked(incident)
    now = at or timezone.now()
    snapshot = PolicySnapshot.load(incident.escalation_snapshot)
    if reason == "timeout":
        due = incident.next_escalation_at
        if snapshot is None or incident.status != S.TRIGGERED or due is None or due > now:
            return None
        return _escalate(incident, snapshot, now=now, actor=actor, source=source, reason=reason)
    if incident.status not in OPEN_STATUSES:
        raise ConflictError(f"Incident #{incident.pk} is {incident.get_status_display().lower()}: "
                            "only open incidents escalate.", code="illegal_transition")
    if snapshot is None:
        raise ConflictError(f"Incident #{incident.pk} follows no escalation policy.", code="no_escalation_policy")
    event = _escalate(incident, snapshot, now=now, actor=actor, source=source, reason=reason)
    if event is None:
        raise ConflictError(f"Incident #{incident.pk} has paged every level of {snapshot.name}"
                            f"{' and its repeats' if snapshot.repeat else ''}; page someone instead.",
                            code="escalation_exhausted")
    return event


@transaction.atomic
def incident_page(
    *, incident: Incident | int, target: Target, actor: Actor, source: str, at: datetime | None = None,
) -> TimelineEvent:
    """Page one user or schedule now, outside the policy ("Page..."). Refused when it would reach
    nobody, so the person asking knows at once."""
    incident = _locked(incident)
    if incident.status not in OPEN_STATUSES:
        raise ConflictError(f"Incident #{incident.pk} is {incident.get_status_display().lower()}: "
                            "page someone on an open incident.", code="illegal_transition")
    escalation_policies.check_exists(target, "value")
    now = at or timezone.now()
    reached = reach.resolve([target], at=now)
    if not reached.pairs:
        raise ApplicationError(f"Paging {target.value} reaches nobody: {'; '.join(reached.gaps)}.",
                               code="unreachable", extra={"fields": {"value": reached.gaps}})
    incident.save(update_fields=["updated_at"])
    return _record(incident, EventKind.ESCALATED, actor=actor, source=source,
                   message=f"Paged {reached.summary()}.",
                   data={"page": True, "level": None, "reason": "page", "targets": reached.targets, "gaps": reached.gaps},
                   at=now, targets=reached.pairs)


def _escalation_start(incident: Incident, policy: EscalationPolicy | None, now: datetime) -> None:
    """Take the snapshot the incident will follow and page level 1 (at once, unless it has a delay)."""
    if policy is None:
        return
    incident.escalation_policy = policy
    try:
        incident.escalation_snapshot = escalation_policies.snapshot_of(policy).to_json()
    except ApplicationError as exc:  # a policy emptied in the admin must not stop the incident opening
        incident.save(update_fields=["escalation_policy", "updated_at"])
        _record(incident, EventKind.ESCALATED, actor=None, source=Source.SCHEDULER,
                message=f"Nobody paged: {exc.message}", data={"level": 0, "gaps": [exc.message]}, at=now,
                targets=[])
        return
    _escalation_restart(incident, now, reason="opened")


def _escalation_restart(incident: Incident, now: datetime, *, reason: str) -> None:
    """From level 1 again (opened, reopened), following the snapshot taken when it opened."""
    snapshot = PolicySnapshot.load(incident.escalation_snapshot)
    if snapshot is None:
        return
    incident.escalation_level = incident.escalation_repeat = 0
    incident.next_escalation_at = now + timedelta(seconds=snapshot.levels[0].delay_seconds)
    if incident.next_escalation_at <= now:
        _escalate(incident, snapshot, now=now, actor=None, source=Source.SCHEDULER, reason=reason)
    else:
        incident.save(update_fields=ESCALATION_FIELDS)


def _escalate(incident: Incident, snapshot: PolicySnapshot, *, now: datetime, actor: Actor, source: str,
              reason: str) -> TimelineEvent | None:
    """Page the step after the current one (caller holds the lock): the "escalated" event with the
    level and whom it reached at ``now``, its deliveries to exactly those targets, and the next
    level's due time (only while unacknowledged). None when no step is left."""
    step = snapshot.following(incident.escalation_level, incident.escalation_repeat)
    if step is None:
        incident.next_escalation_at = None
        incident.save(update_fields=ESCALATION_FIELDS)
        return None
    reached = reach.resolve(snapshot.levels[step.level - 1].targets, at=now)
    after = snapshot.following(step.level, step.repeat)
    incident.escalation_level, incident.escalation_repeat = step.level, step.repeat
    incident.next_escalation_at = (now + timedelta(seconds=after.delay_seconds)
                                   if after is not None and incident.status == S.TRIGGERED else None)
    incident.save(update_fields=ESCALATION_FIELDS)
    again = f" (repeat {step.repeat})" if step.repeat else ""
    return _record(incident, EventKind.ESCALATED, actor=actor, source=source,
                   message=f"Escalated to level {step.level}{again}: {reached.summary()}.",
                   data={"level": step.level, "repeat": step.repeat, "page": False, "reason": reason, "policy": snapshot.name,
                         "targets": reached.targets, "gaps": reached.gaps,
                         "next_at": incident.next_escalation_at.isoformat() if incident.next_escalation_at else None},
                   at=now, targets=reached.pairs)


def _last_actor_name(incident: Incident, kind: str) -> str | None:
    event = incident.events.filter(kind=kind).select_related("actor").order_by("-created_at").first()
    if event is None:
        return None
    return event.actor.get_username() if event.actor else event.get_source_display()


def record_event(
    incident: Incident, kind: str, *, actor: Actor, source: str, message: str = "",
    data: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Timeline entry for something that is not a state change (alerts joined, a silence).
    Call inside the caller's transaction."""
    return _record(incident, kind, actor=actor, source=source, message=message, data=data)
