"""Each Slack channel's pace (docs/slack.md, "Pace"): about one message a second, shared by every
worker through the database, with the most severe incidents served first when the channel is busy.

``pace_reserve`` is a GCRA limiter (SLACK_CHANNEL_MESSAGES_PER_SECOND, bursts of
SLACK_CHANNEL_BURST): a message that may not go now gets the next free slot, and the conversation
waits for it (its ``next_send_at``). The channel's row keeps the waiting conversations in a queue,
so that one more severe than some that wait takes the earliest of their slots and they move back:
a P1 opened behind forty P4 incidents in the same channel is posted next, not forty seconds later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from incidents.notifications.models import Conversation
from opsportal.lib import bulk
from opsportal.lib.compiled import CompiledQuery

from .models import SlackChannelPace

# The rank of a conversation with no incident (a test message): after every incident's.
NO_RANK = 32_767
# The waiting conversations a channel's row keeps, the soonest: a flood of thousands into one
# channel does not rewrite thousands of entries per message, and one further back is already last.
QUEUE_MAX = 100


def pace_reserve(channel: str, *, conversation_id: int | None = None, rank: int | None = None,
                 now: datetime | None = None) -> datetime | None:
    """Take a slot for one message to ``channel``. Returns None when the message may go now, else
    the time of the slot taken for it: the caller sends then without asking again. So twenty
    incidents opened at once into one channel are served a slot each, a second apart, instead of
    all asking again at the same instant, every second, until the last one is through.

    Given the waiting conversation and its incident's severity ``rank`` (1 the most urgent), the
    slot is the earliest one a less severe waiting conversation holds, if any: that one takes the
    later slot, and in turn the earliest slot of one less severe than itself (at most one step
    per severity). Equal ranks keep their order, but for the one a more severe conversation moved
    to the back of its rank."""
    now = now or timezone.now()
    channel = channel[:255]
    tat = _reserve(channel, now)
    slot = tat - _allowance() if tat - now > _allowance() else None
    if slot is not None and conversation_id is not None:
        with transaction.atomic():
            [row] = _PACE_LOCKED.objects(channel)
            slot = _queued(row, slot, conversation_id, rank, now)
    return slot


def _interval() -> timedelta:
    return timedelta(seconds=1 / max(settings.SLACK_CHANNEL_MESSAGES_PER_SECOND, 0.001))


def _allowance() -> timedelta:
    """How far ahead of now the theoretical arrival time may be for a message to go at once."""
    return _interval() * int(max(settings.SLACK_CHANNEL_BURST - 1, 0))


def _reserve(channel: str, now: datetime) -> datetime:
    """Move the channel's theoretical arrival time one interval on from itself or now, whichever
    is later, and return where it was. On PostgreSQL one statement (the usual message, which may
    go at once, costs one round trip, not a transaction of four); elsewhere a locked read and an
    update."""
    interval = _interval()
    for _attempt in range(2):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_RESERVE_SQL, [now, interval.total_seconds(), channel, interval.total_seconds()])
                found = cursor.fetchone()
            if found is not None:
                return found[0]  # type: ignore[no-any-return]
        else:
            with transaction.atomic():
                rows = _PACE_LOCKED.objects(channel)
                if rows:
                    tat = max(rows[0].next_at, now)
                    bulk.update_records(SlackChannelPace, [{"channel": channel, "next_at": tat + interval}])
                    return tat
        # The channel's first message: two workers may get here at once.
        SlackChannelPace.objects.bulk_create([SlackChannelPace(channel=channel, next_at=now)], ignore_conflicts=True)
    raise RuntimeError(f"no pace row for Slack channel {channel!r}")


_RESERVE_SQL = (f"UPDATE {SlackChannelPace._meta.db_table} "
                "SET next_at = GREATEST(next_at, %s) + make_interval(secs => %s) "
                "WHERE channel = %s RETURNING next_at - make_interval(secs => %s)")


def _queued(row: SlackChannelPace, slot: datetime, conversation_id: int, rank: int | None, now: datetime) -> datetime:
    """Put the waiting conversation in the channel's queue (its row locked by the caller) and
    return its slot, which may be an earlier one (:func:`_served_first`)."""
    queue = [entry for entry in row.queue if _at(entry) > now]
    newcomer = [slot.isoformat(), conversation_id, NO_RANK if rank is None else rank]
    queue.append(newcomer)
    slot = _served_first(queue, newcomer, now)
    queue.sort(key=_at)
    bulk.update_records(SlackChannelPace, [{"channel": row.channel, "queue": queue[:QUEUE_MAX]}])
    return slot


def _served_first(queue: list[list[Any]], newcomer: list[Any], now: datetime) -> datetime:
    """Hand the newcomer (an entry of the queue) the earliest slot of a less severe waiting
    conversation, and so on down the ranks; the queue is changed in place. Returns the
    newcomer's slot. A waiting conversation whose ``next_send_at`` is no longer its slot (its
    flush is under way, or someone pressed "retry now") is left where it is."""
    holder = newcomer
    skipped: set[int] = set()
    while True:
        behind = [entry for entry in queue
                  if entry[2] > holder[2] and now < _at(entry) < _at(holder) and entry[1] not in skipped]
        if not behind:
            break
        victim = min(behind, key=_at)
        if not Conversation.objects.filter(pk=victim[1], next_send_at=_at(victim)).update(next_send_at=_at(holder)):
            skipped.add(victim[1])
            continue
        if holder is not newcomer:  # the newcomer's own next_send_at is written by its flush
            Conversation.objects.filter(pk=holder[1], next_send_at=_at(holder)).update(next_send_at=_at(victim))
        victim[0], holder[0] = holder[0], victim[0]
        holder = victim
    return _at(newcomer)


def _at(entry: list[Any]) -> datetime:
    return datetime.fromisoformat(entry[0])


# Every Slack message takes a slot: its read compiled once, not per message (the UPDATE is
# bulk.update_records, whose statement is built once too).
_PACE_LOCKED = CompiledQuery(SlackChannelPace, lambda channel: SlackChannelPace.objects.select_for_update().filter(
    channel=channel), marker="\x00channel\x00")
_PACE = CompiledQuery(SlackChannelPace, lambda channel: SlackChannelPace.objects.filter(channel=channel),
                      marker="\x00channel\x00")


def pace_next(channel: str, *, now: datetime | None = None) -> datetime | None:
    """When the next message to ``channel`` may go, or None if it may go now."""
    now = now or timezone.now()
    rows = _PACE.objects(channel[:255])
    if not rows:
        return None
    at: datetime = rows[0].next_at - _allowance()
    return at if at > now else None
