"""The small interface between the outbox and a channel (Slack, PagerDuty, email).

A channel is an integration that registers a :class:`MessageChannel` with ``incidents.registry``.
The outbox renders each message from its template when the event happens, stores it, and later
hands a conversation's due messages to the channel's :class:`Sender` as one :class:`Batch`, so a
channel can coalesce a burst into one call (``12 alerts joined``) and keep one thread per incident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from incidents.models import Incident, TimelineEvent

from .models import Conversation, Delivery


class TransportError(Exception):
    """A send failed. ``permanent`` errors (a 400, a channel that does not exist) are not retried;
    others are, after ``retry_after`` seconds when the other side said so (429 Retry-After)."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass
class Batch:
    """A conversation's due messages, oldest first, and the incident as it is now (a plain dict:
    the same context templates see)."""

    conversation: Conversation
    deliveries: list[Delivery]
    incident: dict[str, Any]


@dataclass
class Outcome:
    """What a send did. Deliveries not named in ``sent`` or ``errors`` stay due (the channel may
    hold some back, e.g. for its rate limit). ``conversation`` holds updates to the conversation
    (``external_ref``, ``external_url``, ``state``, ``next_send_at``)."""

    sent: dict[int, str] = field(default_factory=dict)  # delivery id -> external ref of the message
    errors: dict[int, TransportError] = field(default_factory=dict)
    conversation: dict[str, Any] = field(default_factory=dict)


class Sender(Protocol):
    def configured(self) -> bool:
        """Credentials present: otherwise messages are kept as previews and never sent."""

    def default_targets(self) -> list[str]:
        """Targets when no route matches (from settings), e.g. [SLACK_DEFAULT_CHANNEL]."""

    def announces(self, event: TimelineEvent) -> bool:
        """Whether this event is sent on this channel at all (PagerDuty skips changes that came
        from PagerDuty, so nothing echoes back)."""

    def send(self, batch: Batch) -> Outcome:
        """Send the batch. Raise TransportError when nothing was sent.

        A sender may also define ``warm_up()``: called once when a worker process starts, if the
        channel is configured, to load what its first send would (opsportal/warmup.py)."""


def no_escape(text: str) -> str:
    return text


@dataclass(frozen=True)
class MessageChannel:
    """A channel as the outbox sees it. ``events`` are the timeline kinds it announces;
    ``templates`` overrides the default wording (``notifications.defaults``) for some of them as
    (subject, body) Jinja2 source; ``escape`` is applied to every text value a template is given
    (Slack's ``&``, ``<``, ``>``), so alert text can never become markup on that channel.
    ``incident_targets`` names targets the channel adds for one incident on top of routing (Slack:
    the incident's own channel for some severities); they are conversations like any other.
    ``routes_hear_targeted``: an event sent to explicit targets (an escalation, a page) of a kind in
    ``events`` is announced to the channel's routed targets too, not only to its own (Slack: the
    incident's thread shows each escalation while the level's people get their page).
    """

    name: str
    label: str
    sender: Sender
    events: frozenset[str]
    templates: dict[str, tuple[str, str]] = field(default_factory=dict, hash=False)
    escape: Callable[[str], str] = no_escape
    # How a target is shown on pages (a PagerDuty routing key is a secret: its first characters).
    display_target: Callable[[str], str] = no_escape
    order: int = 100
    incident_targets: Callable[[Incident], list[str]] | None = field(default=None, hash=False)
    routes_hear_targeted: bool = False
