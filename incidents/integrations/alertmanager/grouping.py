"""Which incident an alert group belongs to (docs/architecture.md section 10).

A group is Alertmanager's ``groupKey`` (default) or the values of the integration's
``group_by_labels``. Its incident carries ``group_key = sha256(f"{integration.pk}:{key}")``, and the
database allows one *open* incident per group key (constraint "one_open_incident_per_group"), so two
webhooks racing to open the same group cannot both win: the loser's insert fails, its savepoint
rolls back, and it joins the winner's incident.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, QuerySet, Value, When

from incidents.models import OPEN_STATUSES, Incident, Status

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
    sql, params, at = _current_incident_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params[:at], hashed, *params[at + 1:]])
        row = cursor.fetchone()
    if row is None:
        return None
    # The columns of a plain model query, in order (then open_first), converted as the ORM does.
    fields: list[Any] = list(Incident._meta.concrete_fields)  # django-stubs types them as the base Field
    values = list(row[:len(fields)])
    for i, field in enumerate(fields):
        for convert in (*connection.ops.get_db_converters(field.cached_col), *field.get_db_converters(connection)):
            values[i] = convert(values[i], field.cached_col, connection)
    return Incident.from_db(connection.alias, [f.attname for f in fields], values)


_GROUP = "\x00group key\x00"  # marks the group key's place among the compiled query's parameters


@functools.cache
def _current_incident_sql(vendor: str) -> tuple[str, tuple[Any, ...], int]:
    """(SQL, parameters, index of the group key among them) of the current-incident query."""
    open_first = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1))
    query = (_for_group(_GROUP).select_for_update().annotate(open_first=open_first)
             .order_by("open_first", "-opened_at", "-pk")[:1]).query
    with transaction.atomic(savepoint=False):  # select_for_update compiles only inside a transaction
        sql, params = query.sql_with_params()
    return sql, tuple(params), list(params).index(_GROUP)


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
