"""The outbox: a delivery row per message per target, written in the transaction of the change
that caused it, sent after commit, retried with backoff until sent or dead (docs/architecture.md
section 4).

``deliveries_for_event`` is called by the lifecycle's recording path, so every timeline event is
announced (or not) in one place. ``conversation_flush`` sends one conversation's due messages as a
batch, under a lease so two workers never send the same conversation at once; the sweep re-sends
whatever is due, so a broker outage only delays messages.
"""

from __future__ import annotations

import logging
import random
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Exists, Max, Min, OuterRef, Q, Value, When
from django.utils import timezone

from incidents.models import EventKind, Incident, TimelineEvent
from incidents.registry import registry
from opsportal.lib import broker, bulk, memo
from opsportal.lib.compiled import CompiledQuery
from opsportal.lib.exceptions import ConflictError, NotFoundError

from . import metrics, routing
from .channels import Batch, MessageChannel, Outcome, TransportError
from .models import Conversation, Delivery
from .rendering import edited_templates, event_context, incident_context, render_message

log = logging.getLogger(__name__)
S = Delivery.Status
# Largest batch one flush hands to a channel; the rest waits for the next flush.
BATCH_MAX = 100
FLUSH_TASK = "incidents.notifications.tasks.conversation_flush_task"


def deliveries_for_event(
    event: TimelineEvent, *, targets: Sequence[tuple[str, str]] | None = None
) -> Sequence[Delivery]:
    """Write the deliveries announcing ``event`` on every channel that announces its kind, to
    every routed target. Call inside the transaction that wrote the event; the sends are
    enqueued when it commits. A channel without credentials gets preview rows, never sent.

    ``targets`` ((channel name, target) pairs) names whom this one event pages (an escalation: a
    user's Slack DM, a routing key, an address): it goes to those targets whether or not the
    channel announces its kind to its routes, and to no route, except on channels that set
    ``routes_hear_targeted`` (Slack), whose routed conversations announce it too (the incident's
    thread). A target that is also a routed one gets one delivery, not two. Unknown channel names
    are skipped; the caller checks them against the registry."""
    incident = event.incident
    plan = _plan(event, targets)
    if not plan:
        return []
    edited = edited_templates(event.kind)
    incident_dict = incident_context(incident, now=event.created_at)
    event_dict = event_context(event)
    rows: list[tuple[MessageChannel, str, dict[str, str], bool]] = []
    for channel, configured, channel_targets in plan:
        if not channel_targets:
            continue
        payload = render_message(channel, event.kind, incident_dict, event_dict, edited)
        rows.extend((channel, target, payload, configured) for target in channel_targets)
    if not rows:
        return []
    keys = {(channel.name, target) for channel, target, _, _ in rows}
    known = _known_conversations(incident.pk, keys)
    if known is None:
        conversations = _conversations(incident, keys)
        ids = {key: conversation.pk for key, conversation in conversations.items()}
    else:
        ids = known
    made = [
        Delivery(
            conversation_id=ids[(channel.name, target)], incident=incident, event=event, kind=event.kind,
            channel=channel.name, target=target, payload=payload,
            status=S.PENDING if configured else S.PREVIEW,
            next_attempt_at=event.created_at if configured else None, created_at=event.created_at,
        )
        for channel, target, payload, configured in rows
    ]
    # A conversation waiting for its time (quiet time after a send, a Slack pace slot, a retry, a
    # flush under way) would refuse a flush now: the sweep takes it when its time comes, with
    # these deliveries in order. Only idle ones are handed to the workers: in a storm that spared
    # every post after an incident's first its broker publish, and the workers a flush doing nothing.
    now = timezone.now()
    if known is None:
        created = bulk.insert_objects(made)
        waiting = {c.pk for c in conversations.values() if c.next_send_at is not None and c.next_send_at > now}
        if connection.vendor == "postgresql":
            transaction.on_commit(lambda: _remember_conversations(incident.pk, ids))
    else:
        # Conversations this process has seen committed: their next_send_at comes back with the
        # insert, one statement for the event's deliveries and no read of its conversations.
        sends_at = bulk.insert_objects_returning(made, _NEXT_SEND_AT)
        created = made
        waiting = {d.conversation_id for d, at in zip(made, sends_at, strict=True) if at is not None and at > now}
    pending = sorted({d.conversation_id for d in created if d.status == S.PENDING} - waiting)
    if pending:
        transaction.on_commit(lambda: _enqueue_unless_recent(pending))
    return created


# (incident id, channel, target) -> the id of a conversation this process saw committed. A
# conversation never changes incident, channel or target and goes only with its incident, so an
# incident's later events (a storm's posts) need not read it again (PostgreSQL, where the insert
# of their deliveries reads back its next_send_at).
_conversation_ids: OrderedDict[tuple[int, str, str], int] = OrderedDict()
_CONVERSATION_IDS_KEPT = 10_000
_NEXT_SEND_AT = (f"(SELECT c.next_send_at FROM {Conversation._meta.db_table} c "
                 f"WHERE c.id = {Delivery._meta.db_table}.conversation_id)")


def _known_conversations(incident_id: int, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int] | None:
    """The ids of these conversations when this process knows them all (PostgreSQL), else None."""
    if connection.vendor != "postgresql":
        return None
    found = {}
    for channel, target in keys:
        pk = _conversation_ids.get((incident_id, channel, target))
        if pk is None:
            return None
        found[(channel, target)] = pk
    return found


def _remember_conversations(incident_id: int, ids: dict[tuple[str, str], int]) -> None:
    """Keep committed conversations' ids (never one made in a transaction that rolled back: its
    row does not exist), up to _CONVERSATION_IDS_KEPT, forgetting the longest-kept first (a
    forgotten one is read again once and kept again)."""
    for (channel, target), pk in ids.items():
        _conversation_ids[(incident_id, channel, target)] = pk
        _conversation_ids.move_to_end((incident_id, channel, target))
    while len(_conversation_ids) > _CONVERSATION_IDS_KEPT:
        _conversation_ids.popitem(last=False)


def _plan(
    event: TimelineEvent, targets: Sequence[tuple[str, str]] | None
) -> list[tuple[MessageChannel, bool, list[str]]]:
    """(channel, configured, targets) to write: the routed targets of each channel announcing the
    kind (one preview target "" where the channel has no credentials), then the explicit
    ``targets`` in the order given, without repeats; with explicit targets only channels that set
    ``routes_hear_targeted`` add their routed ones. Each channel is asked once whether it is
    configured (an answer may cost a query)."""
    announcing = [
        c for c in registry.message_channels
        if event.kind in c.events and c.sender.announces(event) and (targets is None or c.routes_hear_targeted)
    ]
    ready = {c.name: c.sender.configured() for c in announcing}
    routes = routing.enabled_routes() if any(ready.values()) else {}
    plan: dict[str, tuple[MessageChannel, bool, list[str]]] = {
        channel.name: (channel, ready[channel.name],
                       routing.targets_for(event.incident, channel, routes) if ready[channel.name] else [""])
        for channel in announcing
    }
    for name, target in targets or ():
        if name in plan:
            channel, configured, channel_targets = plan[name]
        else:
            found = registry.message_channel(name)
            if found is None:
                log.warning("explicit target on a channel that is not installed", extra={"channel": name})
                continue
            channel, configured, channel_targets = found, found.sender.configured(), []
        if target and target not in channel_targets and channel.sender.announces(event):
            channel_targets.append(target)
            plan[name] = (channel, configured, channel_targets)
    return list(plan.values())


def _conversations(incident: Incident, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Conversation]:
    """The conversations of ``incident`` for these (channel, target) keys, made where missing: one
    query when they exist, three when some are new (a concurrent event of the same incident may
    make them first: the insert ignores that conflict and the second read finds theirs). An
    incident opened in this unit of work has none but the ones made here: one insert. Within a
    webhook post (``memo.scope``) what was found or made is kept for the post's later events."""
    known: dict[tuple[str, str], Conversation] = memo.get(("notifications.conversations", incident.pk), dict)

    def make(missing: set[tuple[str, str]], *, ignore_conflicts: bool) -> Sequence[Conversation]:
        made = [Conversation(incident=incident, channel=channel, target=target) for channel, target in sorted(missing)]
        if ignore_conflicts:
            return Conversation.objects.bulk_create(made, ignore_conflicts=True)
        return bulk.insert_objects(made)

    def find(missing: set[tuple[str, str]]) -> None:
        # All of the incident's conversations (a few): one query compiled once per process.
        rows = _INCIDENT_CONVERSATIONS.objects(incident.pk)
        known.update({(row.channel, row.target): row for row in rows if (row.channel, row.target) in missing})

    missing = keys - known.keys()
    opened_here: bool = memo.get(("incidents.opened_here", incident.pk), lambda: False)
    if missing and opened_here:
        known.update({(row.channel, row.target): row for row in make(missing, ignore_conflicts=False)})
        missing = set()
    if missing:
        find(missing)
        missing -= known.keys()
    if missing:
        make(missing, ignore_conflicts=True)
        find(missing)
    return {key: known[key] for key in keys if key in known}


# Conversation id -> when (time.monotonic) this process last handed its flush to the workers.
_enqueued_at: dict[int, float] = {}
_ENQUEUED_KEPT = 10_000


_INCIDENT_CONVERSATIONS = CompiledQuery(Conversation, lambda pk: Conversation.objects.filter(incident_id=pk),
                                        marker=-1)


def _enqueue_unless_recent(conversation_ids: list[int]) -> None:
    """Enqueue the flush of the conversations one commit made due, leaving out those this process
    enqueued less than NOTIFY_COALESCE_SECONDS ago (a storm's posts add to the same few threads
    many times a second, and each publish cost a post about half a millisecond of CPU). Nothing
    waits longer for it: that flush has not run yet and will send these deliveries too, or it has
    sent and started the conversation's quiet time, during which a flush sends nothing and the
    sweep sends what is due when it ends. A new incident's conversations are always enqueued."""
    quiet = settings.NOTIFY_COALESCE_SECONDS
    if quiet <= 0:
        _enqueue(conversation_ids, together=True)
        return
    now = time.monotonic()
    due = [pk for pk in conversation_ids if _enqueued_at.get(pk, -quiet) <= now - quiet]
    if due and _enqueue(due, together=True):
        if len(_enqueued_at) > _ENQUEUED_KEPT:
            for pk, at in list(_enqueued_at.items()):
                if at <= now - quiet:
                    _enqueued_at.pop(pk, None)
        _enqueued_at.update(dict.fromkeys(due, now))


def _enqueue(conversation_ids: list[int], *, together: bool = False) -> bool:
    """Hand the flushes to the workers: the few conversations one commit made due in one broker
    message (``together``), the sweep's many one message each so that workers share them. When
    the broker is down the conversations are marked for the sweep, which sends them once it is
    back (False)."""
    batches = [conversation_ids] if together else [[pk] for pk in conversation_ids]
    for n, batch in enumerate(batches):
        try:
            broker.publish(FLUSH_TASK, batch)
        except Exception:  # noqa: BLE001 - any broker failure: the delivery rows are the record
            log.warning("could not enqueue a flush; the outbox sweep will send it", extra={"conversations": batch})
            _mark_for_sweep([pk for rest in batches[n:] for pk in rest])
            return False
    return True


def _mark_for_sweep(conversation_ids: list[int]) -> None:
    """Conversations whose flush could not be handed over are due for the next sweep at once (one
    that is idle; a leased one's flush is under way). Without the mark the sweep would take
    them only after NOTIFY_LEASE_SECONDS (see ``outbox_sweep``)."""
    try:
        Conversation.objects.filter(pk__in=conversation_ids, next_send_at__isnull=True).update(
            next_send_at=timezone.now())
    except Exception:  # noqa: BLE001 - the database is down too: the sweep finds them after the lease time
        log.warning("could not mark conversations for the sweep", extra={"conversations": conversation_ids})


def conversation_flush(conversation_id: int, *, now: datetime | None = None) -> int:
    """Send a conversation's due deliveries (oldest first) through its channel. Returns how many
    were sent. Safe to call concurrently and repeatedly: a conversation leased by another flush,
    or waiting for its rate limit, is left alone."""
    now = now or timezone.now()
    if not _lease(conversation_id, now, until=now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)):
        return 0
    [conversation] = _LEASED.objects(conversation_id)
    channel = registry.message_channel(conversation.channel)
    due = _due_in_order(conversation, now)
    if channel is None:
        bulk.update_records(Conversation, [{"id": conversation_id, "next_send_at": None}])
        return 0
    if not due:
        _release(conversation_id, now)
        return 0
    started = timezone.now()
    try:
        context = (incident_context(conversation.incident) if conversation.incident is not None
                   else dict(conversation.state.get("incident") or {}))
        outcome = channel.sender.send(Batch(conversation, due, context))
    except TransportError as exc:
        outcome = Outcome(errors={d.pk: exc for d in due})
    except Exception as exc:  # noqa: BLE001 - a bug in a channel must not lose the messages
        log.exception("channel %s failed to send", channel.name)
        outcome = Outcome(errors={d.pk: TransportError(f"{type(exc).__name__}: {exc}") for d in due})
    metrics.SEND_SECONDS.labels(channel.name).observe((timezone.now() - started).total_seconds())
    return _record(conversation, due, outcome, now=timezone.now())


def _release(conversation_id: int, now: datetime) -> None:
    """End a flush that found nothing due. A delivery committed after ``due`` was read had its
    post see this flush's lease and leave the send to the sweep (``deliveries_for_event``): then
    the conversation is due at once for the sweep's next tick, never idle with a message waiting."""
    arrived = Delivery.objects.filter(conversation_id=OuterRef("pk"), status__in=[S.PENDING, S.FAILED],
                                      next_attempt_at__lte=now)
    Conversation.objects.filter(pk=conversation_id).update(
        next_send_at=Case(When(Exists(arrived), then=Value(now)), default=Value(None)))


def _lease(conversation_id: int, now: datetime, *, until: datetime) -> bool:
    """Take the conversation for a flush unless one holds it or its time has not come: one
    UPDATE, its SQL written once (the ORM compiled it again for every flush)."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(_LEASE_SQL, [ops.adapt_datetimefield_value(until), conversation_id,
                                    ops.adapt_datetimefield_value(now)])
        return bool(cursor.rowcount)


_LEASE_SQL = (f"UPDATE {Conversation._meta.db_table} SET next_send_at = %s "
              "WHERE id = %s AND (next_send_at IS NULL OR next_send_at <= %s)")
# What a flush reads: the conversation with what its incident's context needs, and its unsent
# deliveries in order; compiled once per process (opsportal/lib/compiled.py).
_LEASED = CompiledQuery(Conversation, lambda pk: Conversation.objects.select_related(
    "incident__severity", "incident__service", "incident__commander").filter(pk=pk), marker=-1)
_UNSENT = CompiledQuery(Delivery, lambda pk: Delivery.objects.filter(
    conversation_id=pk, status__in=[S.PENDING, S.FAILED]).order_by("created_at", "id")[:BATCH_MAX], marker=-1)


def _due_in_order(conversation: Conversation, now: datetime) -> list[Delivery]:
    """Unsent deliveries oldest first, up to the first that is not yet due: a message waiting
    for its retry holds back the newer ones, so a thread never reads out of order."""
    due = []
    for delivery in _UNSENT.objects(conversation.pk):
        if delivery.next_attempt_at is None or delivery.next_attempt_at > now:
            break
        due.append(delivery)
    return due


def _record(conversation: Conversation, due: list[Delivery], outcome: Outcome, *, now: datetime) -> int:
    """Write what the send did: the deliveries and the conversation together (one statement on
    PostgreSQL)."""
    failures = [outcome.errors[d.pk] for d in due if d.pk in outcome.errors]
    retry_at: datetime | None = None
    if failures:
        attempts = 1 + max(d.attempts for d in due if d.pk in outcome.errors)
        retry_after = max((e.retry_after or 0) for e in failures)
        retry_at = now + backoff(attempts, retry_after)
    changed = []
    for delivery in due:
        if delivery.pk in outcome.sent:
            delivery.status, delivery.sent_at, delivery.last_error = S.SENT, now, ""
            delivery.external_ref = outcome.sent[delivery.pk][:255]
            delivery.attempts += 1
        elif delivery.pk in outcome.errors:
            error = outcome.errors[delivery.pk]
            delivery.attempts += 1
            delivery.last_error = error.message[:2000]
            if error.permanent or delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                delivery.status, delivery.next_attempt_at = S.DEAD, None
            else:
                # One retry time for the whole batch, so the messages go out again in order.
                delivery.status, delivery.next_attempt_at = S.FAILED, retry_at
        else:
            continue
        changed.append({"id": delivery.pk, **{name: getattr(delivery, name) for name in _RECORDED}})
    if not any(d.status == S.FAILED for d in due):
        retry_at = None
    updates = dict(outcome.conversation)
    updates.setdefault("next_send_at", None)
    if outcome.sent and settings.NOTIFY_COALESCE_SECONDS > 0:
        # Storm noise control: after a send, what happens next waits a moment and goes out as one
        # batch (one thread reply, one root update) instead of a message per event.
        quiet_until = now + timedelta(seconds=settings.NOTIFY_COALESCE_SECONDS)
        if updates["next_send_at"] is None or updates["next_send_at"] < quiet_until:
            updates["next_send_at"] = quiet_until
    if retry_at is not None and (updates["next_send_at"] is None or updates["next_send_at"] < retry_at):
        # Keep order: nothing newer goes out before the failed ones are retried.
        updates["next_send_at"] = retry_at
    for field, value in updates.items():
        setattr(conversation, field, value)
    bulk.update_records_together(
        (Delivery, changed),
        (Conversation, [{"id": conversation.pk, **{name: updates[name] for name in sorted(updates)}}]),
    )
    for delivery in due:
        if delivery.pk in outcome.sent or delivery.pk in outcome.errors:
            metrics.DELIVERIES.labels(delivery.channel, delivery.status).inc()
    return len(outcome.sent)


_RECORDED = ("status", "sent_at", "last_error", "external_ref", "attempts", "next_attempt_at")


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Exponential with jitter, capped; never sooner than the other side asked (Retry-After)."""
    base = settings.NOTIFY_BACKOFF_SECONDS * (2 ** min(attempts - 1, 16))
    delay = min(base, settings.NOTIFY_BACKOFF_MAX_SECONDS) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
    return timedelta(seconds=max(delay, retry_after or 0))


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Conversations with a delivery due that no flush will send: the beat hands them to workers.
    Returns their ids.

    A conversation whose time has come (``next_send_at``: its quiet time, rate-limit slot or
    retry ended, a killed worker's lease ran out, or its flush could not be enqueued) is taken
    at once. An idle one (no ``next_send_at``) had its flush enqueued when its deliveries were
    committed: it is taken only once they have waited NOTIFY_LEASE_SECONDS (the process died
    between the commit and the enqueue). Taking it sooner sent a second flush after each one
    still queued: in a burst that workers trail, a third of the flushes found nothing to send.

    A conversation this process handed over is handed over again only once its flush has run
    (its first due delivery or its ``next_send_at`` changed) or NOTIFY_LEASE_SECONDS have passed
    (the task was lost): with the workers down and the broker up, a due conversation adds one
    task to the queue per lease time, not one per sweep."""
    now = now or timezone.now()
    lost = now - timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    rows = list(
        Delivery.objects.filter(status__in=[S.PENDING, S.FAILED], next_attempt_at__lte=now)
        .filter(Q(conversation__next_send_at__lte=now)
                | Q(conversation__next_send_at__isnull=True, next_attempt_at__lte=lost))
        .order_by().values_list("conversation_id").annotate(first=Min("id"), at=Max("conversation__next_send_at"))
        [:limit]
    )
    clock = time.monotonic()
    fresh = []
    for conversation_id, first, at in rows:
        seen = _swept.get(conversation_id)
        if seen is not None and seen[0] == (first, at) and clock - seen[1] < settings.NOTIFY_LEASE_SECONDS:
            continue
        fresh.append(conversation_id)
    if fresh and _enqueue(fresh):
        if len(_swept) > _ENQUEUED_KEPT:
            for pk, (_, at_clock) in list(_swept.items()):
                if clock - at_clock >= settings.NOTIFY_LEASE_SECONDS:
                    del _swept[pk]
        handed = set(fresh)
        _swept.update({pk: ((first, at), clock) for pk, first, at in rows if pk in handed})
    return fresh


# Conversation id -> ((its first due delivery, its next_send_at) when this process's sweep handed
# it over, time.monotonic() then).
_swept: dict[int, tuple[tuple[int, datetime | None], float]] = {}


@transaction.atomic
def delivery_retry_now(*, delivery: Delivery | int) -> Delivery:
    """"Retry now" on the incident page: a failed or dead delivery is due again at once."""
    pk = delivery.pk if isinstance(delivery, Delivery) else delivery
    try:
        row = Delivery.objects.select_for_update().get(pk=pk)
    except Delivery.DoesNotExist:
        raise NotFoundError(f"Delivery #{pk} does not exist.") from None
    if row.status not in (S.FAILED, S.DEAD):
        raise ConflictError(f"Delivery #{pk} is {row.get_status_display().lower()}; only failed or dead "
                            "deliveries can be retried.", code="not_retryable")
    row.status, row.next_attempt_at = S.PENDING, timezone.now()
    if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        row.attempts = settings.NOTIFY_MAX_ATTEMPTS - 1  # one more try
    row.save(update_fields=["status", "next_attempt_at", "attempts"])
    Conversation.objects.filter(pk=row.conversation_id).update(next_send_at=None)
    conversation_id = row.conversation_id
    transaction.on_commit(lambda: _enqueue([conversation_id]))
    return row


def direct_message_create(*, channel: str, target: str, text: str, context: dict[str, Any],
                          subject: str = "") -> Delivery:
    """One message to one target outside any incident (a user's test page, docs/oncall.md): a
    conversation of its own with no incident, sent and retried like every delivery. Channels
    get ``context`` where they would get the incident (the same keys as ``incident_context``),
    and the delivery's kind is "opened", the first message of a conversation. Call inside a
    transaction or not; the send is enqueued on commit. A channel without credentials gets a
    preview row, never sent."""
    found = registry.message_channel(channel)
    if found is None:
        raise NotFoundError(f'No channel "{channel}" is installed.')
    configured = found.sender.configured()
    now = timezone.now()
    conversation = Conversation.objects.create(incident=None, channel=channel, target=target,
                                               state={"incident": context})
    delivery = Delivery.objects.create(
        conversation=conversation, incident=None, event=None, kind=EventKind.OPENED, channel=channel,
        target=target, payload={"subject": subject, "text": text} if subject else {"text": text},
        status=S.PENDING if configured else S.PREVIEW, next_attempt_at=now if configured else None, created_at=now,
    )
    if configured:
        transaction.on_commit(lambda: _enqueue([conversation.pk]))
    return delivery
