"""Alertmanager ingestion: one webhook post, one transaction (docs/architecture.md section 10).

``alertmanager_ingest`` stores the raw post, finds or opens (or reopens) the incident of each
alert group, upserts the alerts in bulk (one row per fingerprint per incident) and resolves the
incident when its last alert resolves. Timeline events are written only for incident-level
changes (opened, alerts joined, alerts resolved, alerts truncated); a repeated post only moves
``last_seen_at`` and ``times_received``. The caller answers 2xx after this returns, i.e. after the
commit, so a crash before it makes Alertmanager retry.

Alerts that match an active maintenance window (and are not already on the group's open incident)
are stored without an incident and page nobody.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from incidents import lifecycle
from incidents.models import LABELS_MAX_BYTES, OPEN_STATUSES, EventKind, Incident, Source, Status
from opsportal.lib import bulk, memo
from opsportal.lib.durations import format_duration
from opsportal.lib.exceptions import ConflictError

from . import grouping, metrics
from .maintenance import maintenance_window_matching, maintenance_windows_active
from .models import Alert as AlertRow
from .models import AlertStatus, Integration, MaintenanceWindow, WebhookDelivery
from .payload import AlertIn, Payload
from .severity import SeverityPicker
from .templating import render_description, render_title, template_context

log = logging.getLogger(__name__)

OPENED, REOPENED, RESOLVED, UPDATED, SUPPRESSED, UNCHANGED = (
    "opened", "reopened", "resolved", "updated", "suppressed", "unchanged",
)
# The answer names the most significant thing that happened to any group of the post.
_SIGNIFICANCE = [OPENED, REOPENED, RESOLVED, UPDATED, SUPPRESSED, UNCHANGED]
MAX_ATTEMPTS = 5  # get-or-create retries when a concurrent webhook opened the group's incident
CHUNK = 2_000  # fingerprints per IN (...) list
EVENT_NAMES_SHOWN = 5
EVENT_FINGERPRINTS_KEPT = 100


@dataclass
class IngestResult:
    action: str
    incident_id: int | None
    incident_ids: list[int]
    alerts: int
    delivery_id: int

    def as_response(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "incident": self.incident_id,
            "action": self.action,
            "alerts": self.alerts,
            "incidents": self.incident_ids,
        }


@dataclass
class _GroupOutcome:
    action: str
    incident: Incident | None


@dataclass
class _Changes:
    joined: list[AlertIn] = field(default_factory=list)  # new on the incident and firing
    refired: list[AlertIn] = field(default_factory=list)  # were resolved, fire again
    resolved: list[AlertIn] = field(default_factory=list)  # were firing (or are new) and resolved
    written: int = 0  # rows inserted or with changed fields

    @property
    def any(self) -> bool:
        return bool(self.written or self.joined or self.refired or self.resolved)


class _Row(NamedTuple):
    """The stored fields of an alert that a post can change."""

    id: int
    status: str
    starts_at: datetime
    ends_at: datetime | None
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str
    links: dict[str, str]


class _Context:
    """What every group of one post shares."""

    def __init__(self, integration: Integration, payload: Payload, now: datetime):
        self.integration = integration
        self.payload = payload
        self.now = now
        self.windows: list[MaintenanceWindow] = maintenance_windows_active(integration=integration, at=now)
        self.on_commit: list[tuple[str, int]] = []  # (incident action, count) for metrics

    @cached_property
    def severities(self) -> SeverityPicker:
        return SeverityPicker(self.integration)


def alertmanager_ingest(
    *, integration: Integration, payload: Payload, body: str, received_at: datetime | None = None
) -> IngestResult:
    """Store one validated webhook post (``body``: its JSON text as received) and apply it to
    incidents, in one transaction.

    Raises django.db.OperationalError/InterfaceError when the database is unavailable or a lock
    is not granted within ALERTMANAGER_LOCK_TIMEOUT_SECONDS (the webhook answers 503 so
    Alertmanager retries, instead of hanging); nothing is stored half-way in any failure.
    """
    now = received_at or timezone.now()
    with memo.scope(), transaction.atomic():
        _limit_lock_waits()
        ctx = _Context(integration, payload, now)
        outcomes = [_ingest_group(ctx, group) for group in grouping.groups_for(integration, payload)]
        primary = min(outcomes, key=lambda o: _SIGNIFICANCE.index(o.action), default=None)
        incident = primary.incident if primary else None
        [delivery] = bulk.insert_objects([WebhookDelivery(
            integration=integration,
            incident=incident,
            received_at=now,
            group_key=payload.group_key,
            status=payload.status,
            alert_count=len(payload.alerts),
            truncated_alerts=payload.truncated_alerts,
            body=body,
        )])
        transaction.on_commit(lambda: _count(ctx))
    ids = list(dict.fromkeys(o.incident.pk for o in outcomes if o.incident is not None))
    return IngestResult(
        action=primary.action if primary else UNCHANGED,
        incident_id=incident.pk if incident else None,
        incident_ids=ids,
        alerts=len(payload.alerts),
        delivery_id=delivery.pk,
    )


def _ingest_group(ctx: _Context, group: grouping.Group) -> _GroupOutcome:
    fingerprints = [a.fingerprint for a in group.alerts]
    for _attempt in range(MAX_ATTEMPTS):
        how = ""
        current = grouping.current_incident_locked(group.hashed)
        incident = current if current is not None and current.status in OPEN_STATUSES else None
        existing = _rows(incident, fingerprints) if incident else {}
        held, rest = _split_held(ctx, group.alerts, existing)
        if incident is None and rest:
            latest = current
            latest_rows = _rows(latest, [a.fingerprint for a in rest]) if latest else {}
            if any(_fires_anew(a, latest_rows.get(a.fingerprint)) for a in rest):
                try:
                    # incident_open / incident_reopen run in their own savepoint: a failure here
                    # rolls back only their writes, and this transaction carries on.
                    incident, how = _open_or_reopen(ctx, group, latest, rest)
                except (IntegrityError, ConflictError):
                    # A concurrent webhook opened or reopened this group's incident first and has
                    # committed: the next attempt finds it open and joins it.
                    log.info("alertmanager: group incident opened concurrently, joining it",
                             extra={"group": group.key[:200]})
                    continue
                existing = latest_rows if how == REOPENED else {}
            elif latest is not None:
                # Repeats of still-firing alerts and late resolutions for the group's last
                # incident (resolved by hand, say): update the alerts, never the incident's state.
                incident = latest
                existing = latest_rows
        break
    else:
        raise OperationalError(f"Could not settle the open incident of group {group.key!r}; retry.")

    if held:
        _store_held(ctx, held)
    if incident is None:
        return _GroupOutcome(SUPPRESSED if held else UNCHANGED, None)

    is_open = incident.status in OPEN_STATUSES
    changes = _apply(ctx, incident, existing, rest, allow_new=is_open)
    # An incident opened by this post names its alerts in its "opened" event: no second entry.
    if how != OPENED and incident.status != Status.CLOSED and (changes.joined or changes.refired or changes.resolved):
        _record_alerts_event(ctx, incident, changes, group)
    if ctx.payload.truncated_alerts and (how or changes.joined or changes.refired or changes.resolved):
        _use_kept_severity(ctx, incident)
        lifecycle.record_event(
            incident, EventKind.NOTE, actor=None, source=Source.ALERTMANAGER,
            message=(
                f"Alertmanager left {ctx.payload.truncated_alerts} more alert(s) of this group out of the "
                "notification (max_alerts); they are not shown here."
            ),
            data={"truncated_alerts": ctx.payload.truncated_alerts},
        )
    if is_open and not how and (changes.joined or changes.refired):
        _raise_severity(ctx, incident, changes.joined + changes.refired)
    if is_open and changes.resolved and ctx.integration.auto_resolve and not _any_firing(incident):
        incident = lifecycle.incident_resolve(
            incident=incident, actor=None, source=Source.ALERTMANAGER,
            note="All alerts resolved in Alertmanager.",
        )
        ctx.on_commit.append(("auto_resolved", 1))
        if not how:
            how = RESOLVED
    if how:
        return _GroupOutcome(how, incident)
    if changes.any:
        return _GroupOutcome(UPDATED, incident)
    return _GroupOutcome(SUPPRESSED if held else UNCHANGED, incident)


def _limit_lock_waits() -> None:
    """On PostgreSQL, give up waiting for a row lock (say, an incident someone's long transaction
    holds) after a while: a 503 that Alertmanager retries beats a request that never answers.
    The hooks pool's connections start with that lock_timeout (opsportal/settings/integrations.py):
    no statement for it there."""
    seconds = settings.ALERTMANAGER_LOCK_TIMEOUT_SECONDS
    if connection.vendor != "postgresql" or seconds <= 0:
        return
    timeout = f"{int(seconds * 1000)}ms"
    if f"lock_timeout={timeout}" in connection.settings_dict.get("OPTIONS", {}).get("options", ""):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])


def _fires_anew(alert: AlertIn, row: _Row | None) -> bool:
    """A firing alert the group's last incident has not seen firing in this occurrence (a repeat
    of an alert still firing there is not news, even if someone resolved the incident by hand)."""
    if not alert.firing:
        return False
    if row is None or row.status != AlertStatus.FIRING:
        return True
    return alert.starts_at is not None and row.starts_at != alert.starts_at


def _open_or_reopen(
    ctx: _Context, group: grouping.Group, latest: Incident | None, alerts: list[AlertIn]
) -> tuple[Incident, str]:
    if grouping.reopenable(latest, ctx.integration, ctx.now):
        assert latest is not None
        window = format_duration(ctx.integration.reopen_window)
        incident = lifecycle.incident_reopen(
            incident=latest, actor=None, source=Source.ALERTMANAGER,
            reason=f"Alerts fire again within the reopen window ({window}).",
        )
        ctx.on_commit.append(("reopened", 1))
        return incident, REOPENED
    context = template_context(ctx.payload, alerts)  # the group's alerts a maintenance window let through
    firing = [a.labels for a in alerts if a.firing]
    opening = _Changes(joined=[a for a in alerts if a.firing], resolved=[a for a in alerts if not a.firing])
    incident = lifecycle.incident_open(
        title=render_title(ctx.integration.title_template, context),
        description=render_description(ctx.integration.description_template, context),
        severity=ctx.severities.most_severe(firing),
        source=Source.ALERTMANAGER,
        service=ctx.integration.default_service,
        escalation_policy=ctx.integration.escalation_policy,
        labels=_bounded_labels(dict(context["commonLabels"]), dict(context["groupLabels"])),
        group_key=group.hashed,
        opened_at=ctx.now,
        details=_alerts_message(opening),
        data=_alerts_data(opening, group),
    )
    ctx.on_commit.append(("opened", 1))
    return incident, OPENED


def _split_held(
    ctx: _Context, alerts: list[AlertIn], existing: dict[str, _Row]
) -> tuple[list[tuple[AlertIn, MaintenanceWindow]], list[AlertIn]]:
    """(alerts a maintenance window holds back, the rest). Alerts already on the open incident
    stay with it, so their resolution still reaches it."""
    if not ctx.windows:
        return [], alerts
    held, rest = [], []
    for alert in alerts:
        window = None if alert.fingerprint in existing else maintenance_window_matching(ctx.windows, alert.labels)
        if window is None:
            rest.append(alert)
        else:
            held.append((alert, window))
    return held, rest


def _rows(incident: Incident | None, fingerprints: list[str]) -> dict[str, _Row]:
    """The incident's stored alerts for these fingerprints, as light tuples (no model instances:
    a 10,000-alert repeat must stay cheap). Many fingerprints: read all of the incident's rows in
    one query rather than a huge IN list."""
    if incident is None or not fingerprints:
        return {}
    rows = bulk.rows_where(AlertRow, ("fingerprint", *_Row._fields), equal=("incident", incident.pk),
                           any_of=("fingerprint", fingerprints) if len(fingerprints) <= CHUNK else None)
    return {r[0]: _Row(*r[1:]) for r in rows}


def _apply(
    ctx: _Context, incident: Incident, existing: dict[str, _Row], alerts: list[AlertIn], *, allow_new: bool
) -> _Changes:
    """Upsert ``alerts`` on ``incident`` with a bounded number of queries: one bulk INSERT for new
    fingerprints, one UPDATE bumping last_seen/times_received for known ones, and one bulk UPDATE
    for the rows whose content changed (none, for a repeat)."""
    changes = _Changes()
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    seen_ids: list[int] = []
    for alert in alerts:
        row = existing.get(alert.fingerprint)
        if row is None:
            if not allow_new:
                continue
            new_rows.append(_new_row(ctx, alert, incident_id=incident.pk))
            (changes.joined if alert.firing else changes.resolved).append(alert)
            continue
        seen_ids.append(row.id)
        if row.status == AlertStatus.FIRING and not alert.firing:
            changes.resolved.append(alert)
        elif row.status == AlertStatus.RESOLVED and alert.firing:
            changes.refired.append(alert)
        update = _changed_fields(row, alert)
        if update is not None:
            changed_rows.append(update)
    bulk.insert_records(AlertRow, new_rows)
    bulk.touch_seen(AlertRow, seen_ids, ctx.now)
    bulk.update_records(AlertRow, changed_rows)
    changes.written = len(new_rows) + len(changed_rows)
    return changes


def _store_held(ctx: _Context, held: list[tuple[AlertIn, MaintenanceWindow]]) -> None:
    """Alerts held back by maintenance: one incident-less row per fingerprint and integration."""
    fingerprints = [a.fingerprint for a, _ in held]
    rows: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(fingerprints, CHUNK):
        for fingerprint, pk, times in AlertRow.objects.filter(
            integration=ctx.integration, incident__isnull=True, fingerprint__in=chunk
        ).values_list("fingerprint", "id", "times_received"):
            rows[fingerprint] = (pk, times)
    new_rows, changed = [], []
    for alert, window in held:
        if alert.fingerprint not in rows:
            new_rows.append(_new_row(ctx, alert, incident_id=None, window_id=window.pk))
            continue
        pk, times = rows[alert.fingerprint]
        record = _new_row(ctx, alert, incident_id=None, window_id=window.pk)
        del record["integration_id"], record["incident_id"], record["fingerprint"], record["first_seen_at"]
        changed.append({"id": pk, **record, "times_received": times + 1})
    # Two posts racing to hold the same new alert: the second insert is skipped, not an error.
    bulk.insert_records(AlertRow, new_rows, ignore_conflicts=True)
    bulk.update_records(AlertRow, changed)


def _new_row(
    ctx: _Context, alert: AlertIn, *, incident_id: int | None, window_id: int | None = None
) -> dict[str, Any]:
    return {
        "integration_id": ctx.integration.pk,
        "incident_id": incident_id,
        "maintenance_window_id": window_id,
        "fingerprint": alert.fingerprint,
        "status": alert.status,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": alert.starts_at or ctx.now,
        "ends_at": alert.ends_at,
        "generator_url": alert.generator_url,
        "links": alert.links,
        "first_seen_at": ctx.now,
        "last_seen_at": ctx.now,
        "times_received": 1,
    }


def _changed_fields(row: _Row, alert: AlertIn) -> dict[str, Any] | None:
    """What Alertmanager says now, as an update record for ``row``; None if nothing but the
    seen-times changed (a repeat)."""
    wanted = _Row(
        id=row.id,
        status=alert.status,
        starts_at=alert.starts_at or row.starts_at,
        ends_at=alert.ends_at,
        labels=alert.labels,
        annotations=alert.annotations,
        generator_url=alert.generator_url,
        links=alert.links,
    )
    if wanted == row:
        return None
    return wanted._asdict()


def _any_firing(incident: Incident) -> bool:
    return AlertRow.objects.filter(incident=incident, status=AlertStatus.FIRING).exists()


def _raise_severity(ctx: _Context, incident: Incident, alerts: list[AlertIn]) -> None:
    """New alerts more severe than the incident raise its severity; nothing ever lowers it."""
    severity = ctx.severities.most_severe(a.labels for a in alerts)
    current = next((s for s in ctx.severities.by_name.values() if s.pk == incident.severity_id), None)
    if current is not None and severity.rank < current.rank:
        lifecycle.incident_change_severity(
            incident=incident, severity=severity, actor=None, source=Source.ALERTMANAGER
        )


def _use_kept_severity(ctx: _Context, incident: Incident) -> None:
    """Give the incident its severity from the configuration this process keeps (the post's
    severity picker), so announcing an event does not read the severity row again."""
    if not Incident.severity.is_cached(incident):
        kept = next((s for s in ctx.severities.by_name.values() if s.pk == incident.severity_id), None)
        if kept is not None:
            incident.severity = kept


def _record_alerts_event(ctx: _Context, incident: Incident, changes: _Changes, group: grouping.Group) -> None:
    _use_kept_severity(ctx, incident)
    lifecycle.record_event(
        incident, EventKind.ALERTS, actor=None, source=Source.ALERTMANAGER,
        message=_alerts_message(changes), data=_alerts_data(changes, group),
    )


def _alerts_message(changes: _Changes) -> str:
    parts = []
    for label, alerts in (
        ("firing", changes.joined), ("firing again", changes.refired), ("resolved", changes.resolved),
    ):
        if alerts:
            parts.append(f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} {label}: {_names(alerts)}")
    return "; ".join(parts) + "." if parts else ""


def _alerts_data(changes: _Changes, group: grouping.Group) -> dict[str, Any]:
    return {
        "joined": [a.fingerprint for a in changes.joined[:EVENT_FINGERPRINTS_KEPT]],
        "refired": [a.fingerprint for a in changes.refired[:EVENT_FINGERPRINTS_KEPT]],
        "resolved": [a.fingerprint for a in changes.resolved[:EVENT_FINGERPRINTS_KEPT]],
        "counts": {
            "joined": len(changes.joined), "refired": len(changes.refired), "resolved": len(changes.resolved)
        },
        "group": group.key[:500],
    }


def _names(alerts: list[AlertIn]) -> str:
    def name(a: AlertIn) -> str:
        return a.labels.get("instance") or a.labels.get("alertname") or a.fingerprint

    shown = ", ".join(name(a) for a in alerts[:EVENT_NAMES_SHOWN])
    more = len(alerts) - EVENT_NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _bounded_labels(common: dict[str, str], group: dict[str, str]) -> dict[str, str]:
    """Incident labels: the group's common labels, or its group labels if those are too big."""
    for labels in (common, group):
        if len(json.dumps(labels)) <= LABELS_MAX_BYTES:
            return labels
    return {}


def _count(ctx: _Context) -> None:
    name = ctx.integration.name
    firing = sum(1 for a in ctx.payload.alerts if a.firing)
    if firing:
        metrics.ALERTS.labels(name, "firing").inc(firing)
    if len(ctx.payload.alerts) - firing:
        metrics.ALERTS.labels(name, "resolved").inc(len(ctx.payload.alerts) - firing)
    for action, n in ctx.on_commit:
        metrics.INCIDENTS.labels(name, action).inc(n)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]

