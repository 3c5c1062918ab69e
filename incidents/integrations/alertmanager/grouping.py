"""Which incident an alert group belongs to (docs/architecture.md section 10).

A group is Alertmanager's ``groupKey`` (default) or the values of the integration's
``group_by_labels``. Its incident carries ``group_key = sha256(f"{integration.pk}:{key}")``, and the
database allows one *open* incident per group key (constraint "one_open_incident_per_group"), so two
webhooks racing to open the same group cannot both win: the loser's insert fails, its savepoint
rolls back, and it joins the winner's incident.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, QuerySet, Value, When

from incidents.models import OPEN_STATUSES, Incident, Status
from opsportal.lib.compiled import CompiledQuery

from .models import Integration
from .payload import AlertIn, Payload


@dataclass(frozen=True)
class Group:
    key: str  # human-readable: the groupKey or the grouping labels
    hashed: str  # Incident.group_key
    alerts: list[AlertIn]


def group_key_hash(integration: Integration, key: str) -> str:
    return hashlib.sha256(f"{integration.pk}:{key}".encode("utf-8", "surrogatepass")).hexdigest()


def labels_key(label_names: list[str], labels: dict[str, str]) -> str:
    """The group of an alert when grouping by labels: the listed labels' values (missing = "")."""
    return "labels:" + json.dumps({name: labels.get(name, "") for name in label_names}, sort_keys=True)


def groups_for(integration: Integration, payload: Payload) -> list[Group]:
    """Split a post into its groups, ordered by hashed key so that concurrent webhooks touching
    several groups lock their incidents in the same order (no deadlocks)."""
    names = [n for n in (integration.group_by_labels or []) if isinstance(n, str)]
    if integration.grouping == Integration.Grouping.LABELS and names:
        buckets: dict[str, list[AlertIn]] = {}
        for alert in payload.alerts:
            buckets.setdefault(labels_key(names, alert.labels), []).append(alert)
    else:
        buckets = {payload.group_key: list(payload.alerts)} if payload.alerts else {}
    groups = [Group(key=k, hashed=group_key_hash(integration, k), alerts=v) for k, v in buckets.items()]
    return sorted(groups, key=lambda g: g.hashed)


def current_incident_locked(hashed: str) -> Incident | None:
    """The group's open incident, else its most recent one in any state (resolved within the
    reopen window, or not), row-locked until the webhook's transaction ends: one query either way.
    The caller checks the status it gets: PostgreSQL returns the row as it is after any wait for
    the lock, so an incident resolved meanwhile comes back resolved.

    Every post asks this once per group, so the ORM compiles the query once per process (compiling
    it cost more CPU than PostgreSQL takes to answer it) and each post runs that SQL with its key."""
    return next(iter(_CURRENT.objects(hashed)), None)


def _current(hashed: str) -> QuerySet[Incident]:
    open_first = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1))
    return (_for_group(hashed).select_for_update().annotate(open_first=open_first)
            .order_by("open_first", "-opened_at", "-pk")[:1])


_CURRENT = CompiledQuery(Incident, _current, marker="\x00group key\x00")


def reopenable(incident: Incident | None, integration: Integration, now: datetime) -> bool:
    """A resolved (not closed) incident whose resolution is recent enough to reopen."""
    return (
        incident is not None
        and incident.status == Status.RESOLVED
        and incident.resolved_at is not None
        and incident.resolved_at >= now - integration.reopen_window
    )


def _for_group(hashed: str) -> QuerySet[Incident]:
    return Incident.objects.filter(group_key=hashed)
