"""The "slack" message channel: what the outbox calls to send an incident's messages to Slack
(docs/slack.md, "How messages are sent").

Per conversation (an incident in one Slack channel) a flush costs at most three calls: the root
message when the incident is first announced there, one thread reply carrying every later message
of the batch, and one ``chat.update`` of the root to show the incident as it is now. An incident
of a severity in SLACK_INCIDENT_CHANNEL_SEVERITIES also has a conversation whose target names its
own channel (``incident_targets``): the first send creates that channel and sets its topic, and
from then on it is a conversation like any other.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from incidents.models import EventKind, Incident, TimelineEvent
from incidents.notifications.channels import Batch, MessageChannel, Outcome, TransportError
from incidents.notifications.models import Conversation, Delivery
from incidents.registry import registry

from . import blocks
from .client import transport_error, web_client
from .invites import invites_send
from .pace import pace_next, pace_reserve

log = logging.getLogger(__name__)

# A target naming an incident's own channel, created on the first send: "incident-channel:inc-42-...".
EVENTS = frozenset({
    EventKind.OPENED, EventKind.ACKNOWLEDGED, EventKind.MITIGATED, EventKind.ASSIGNED,
    EventKind.SEVERITY_CHANGED, EventKind.NOTE, EventKind.SLA_BREACHED, EventKind.ALERTS,
    EventKind.RESOLVED, EventKind.REOPENED, EventKind.CLOSED, EventKind.RUNBOOK, EventKind.ESCALATED,
})
# An escalation's first line says who was paged: it is what the root message shows as "Latest"
# and what a paged person's notification reads (docs/escalation.md, "Messages").
TEMPLATES: dict[str, tuple[str, str]] = {
    EventKind.ESCALATED: ("", "📣 {{ event.message }}\n{{ incident.severity }} {{ incident.severity_label }} · "
                              "{{ incident.title }}{% if incident.status == \"triggered\" %} · not acknowledged"
                              "{% endif %}"),
}
_workspace_urls: dict[tuple[str, str], str] = {}


class SlackSender:
    """Sends a conversation's batch: root message, one coalesced thread reply, root update."""

    def configured(self) -> bool:
        return bool(settings.SLACK_BOT_TOKEN)

    def default_targets(self) -> list[str]:
        return [settings.SLACK_DEFAULT_CHANNEL] if settings.SLACK_DEFAULT_CHANNEL else []

    def announces(self, event: TimelineEvent) -> bool:
        return True

    def send(self, batch: Batch) -> Outcome:
        conversation, incident = batch.conversation, batch.incident
        client = web_client()
        outcome = Outcome()
        state: dict[str, Any] = dict(conversation.state or {})
        channel, root_ts = _split_ref(conversation.external_ref)
        pending = list(batch.deliveries)
        try:
            if not root_ts:
                if conversation.target.startswith(blocks.OWN_CHANNEL_PREFIX):
                    channel = state.get("channel_id") or self._create_channel(client, conversation, incident, state,
                                                                             outcome)
                else:
                    channel = conversation.target
                if self._held(channel, conversation, incident, outcome, state):
                    return outcome
                first = pending.pop(0)
                # Alerts that joined before the root went out are shown by the root itself (its
                # latest update), not by a reply of their own: an alert storm costs each incident
                # one root message, then one reply and one update per flush.
                folded = []
                while pending and pending[0].kind == EventKind.ALERTS:
                    folded.append(pending.pop(0))
                latest = _latest(folded[-1]) if folded else _latest(first)
                answer = _call(client, "chat.postMessage", client.chat_postMessage, channel=channel,
                               **blocks.root_message(incident, fallback=first.payload.get("text", ""),
                                                     latest=latest))
                channel, root_ts = str(answer["channel"]), str(answer["ts"])
                ref = f"{channel}:{root_ts}"
                for delivery in (first, *folded):
                    outcome.sent[delivery.pk] = ref
                outcome.conversation.update(external_ref=ref, external_url=self._permalink(client, channel, root_ts))
                state["root_stale"] = False
            if pending:
                if self._held(channel, conversation, incident, outcome, state):
                    return outcome
                reply = blocks.thread_reply([_update(d) for d in pending], incident_url=str(incident.get("url", "")))
                answer = _call(client, "chat.postMessage", client.chat_postMessage, channel=channel,
                               thread_ts=root_ts, **reply)
                for delivery in pending:
                    outcome.sent[delivery.pk] = f"{channel}:{answer['ts']}"
                state["root_stale"] = True
            if state.get("root_stale"):
                state["latest"] = _latest(batch.deliveries[-1])
                self._update_root(client, channel, root_ts, incident, state)
        except TransportError as exc:
            # Returned, not raised: the outcome keeps what did happen (a channel created, a root
            # posted), so a retry neither creates the channel again nor posts the root twice.
            for delivery in batch.deliveries:
                if delivery.pk not in outcome.sent:
                    outcome.errors[delivery.pk] = exc
        finally:
            outcome.conversation["state"] = state
            if channel and "next_send_at" not in outcome.conversation:
                outcome.conversation["next_send_at"] = pace_next(channel)
        return outcome

    @staticmethod
    def _held(channel: str, conversation: Conversation, incident: dict[str, Any], outcome: Outcome,
              state: dict[str, Any]) -> bool:
        """Wait for the channel's rate limit: the rest of the batch stays due until then. The slot
        taken for the wait is kept in the conversation's state (``pace_slot``), and the flush at its
        time sends on it without taking another (a more severe incident may have moved it later:
        pace.py)."""
        reserved = state.pop("pace_slot", None)
        if reserved is not None:
            return False  # the flush runs no sooner than the slot (its next_send_at)
        wait_until = pace_reserve(channel, conversation_id=conversation.pk, rank=incident.get("severity_rank"))
        if wait_until is None:
            return False
        state["pace_slot"] = wait_until.isoformat()
        outcome.conversation["next_send_at"] = wait_until
        return True

    @staticmethod
    def _update_root(client: WebClient, channel: str, root_ts: str, incident: dict[str, Any],
                     state: dict[str, Any]) -> None:
        """Show the incident as it is now. A failed update leaves the replies sent (they must not
        be posted twice) and the root marked stale, so the next flush updates it."""
        try:
            _call(client, "chat.update", client.chat_update, channel=channel, ts=root_ts,
                  **blocks.root_message(incident, latest=str(state.get("latest", ""))))
        except TransportError as exc:
            log.warning("Slack root message not updated: %s", exc.message)
            return
        state["root_stale"] = False

    def _create_channel(self, client: WebClient, conversation: Conversation, incident: dict[str, Any],
                        state: dict[str, Any], outcome: Outcome) -> str:
        """The incident's own channel: created (a second name if the first is taken), topic set,
        pending invitations sent. Its id is kept at once, so a failed post never creates it twice."""
        name = conversation.target.removeprefix(blocks.OWN_CHANNEL_PREFIX)
        owner = conversation.incident
        if owner is None:  # a direct message (no incident) never names an incident's own channel
            raise TransportError("Only an incident's conversation can create its own channel.", permanent=True)
        try:
            answer = _call(client, "conversations.create", client.conversations_create, name=name)
        except TransportError as exc:
            if "name_taken" not in exc.message:
                raise
            name = f"{name[: blocks.CHANNEL_NAME_MAX - 7]}-{owner.key[:6].lower()}"
            answer = _call(client, "conversations.create", client.conversations_create, name=name)
        channel_id = str(answer["channel"]["id"])
        state.update(channel_id=channel_id, channel_name=name)
        outcome.conversation["state"] = state
        try:
            _call(client, "conversations.setTopic", client.conversations_setTopic, channel=channel_id,
                  topic=blocks.channel_topic(incident))
        except TransportError as exc:  # a channel without a topic still gets the messages
            log.warning("Slack topic not set: %s", exc.message)
        invites_send(owner, channel_id=channel_id, client=client)
        return channel_id

    @staticmethod
    def _permalink(client: WebClient, channel: str, ts: str) -> str:
        base = settings.SLACK_WORKSPACE_URL or _workspace_url(client)
        if not base:
            return ""
        return f"{base.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def _workspace_url(client: WebClient) -> str:
    """The workspace's URL (auth.test), asked once per process and token."""
    key = (settings.SLACK_API_URL, settings.SLACK_BOT_TOKEN)
    if key not in _workspace_urls:
        try:
            _workspace_urls[key] = str(client.auth_test().get("url") or "")
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("Slack auth.test failed, messages get no link: %s", exc)
            return ""
    return _workspace_urls[key]


def _call(client: WebClient, method: str, func: Any, **kwargs: Any) -> Any:
    """One Web API call; every failure becomes a TransportError (client.transport_error)."""
    try:
        return func(**kwargs)
    except (SlackApiError, SlackClientError, OSError) as exc:
        raise transport_error(exc, method) from exc


def _split_ref(ref: str) -> tuple[str, str]:
    channel, _, ts = ref.rpartition(":")
    return (channel, ts) if channel and ts else ("", "")


def _latest(delivery: Delivery) -> str:
    text = str(delivery.payload.get("text", "")).strip()
    return blocks.cut(text.splitlines()[0] if text else "", 300)


def _update(delivery: Delivery) -> blocks.Update:
    counts = None
    if delivery.kind == EventKind.ALERTS and delivery.event is not None:
        raw = (delivery.event.data or {}).get("counts")
        counts = {k: int(v) for k, v in raw.items()} if isinstance(raw, dict) else None
    return blocks.Update(delivery.kind, str(delivery.payload.get("text", "")), counts)


def own_channel_targets(incident: Incident) -> list[str]:
    """The incident's own channel for the severities in SLACK_INCIDENT_CHANNEL_SEVERITIES."""
    if incident.severity.name not in settings.SLACK_INCIDENT_CHANNEL_SEVERITIES:
        return []
    existing = (Conversation.objects.filter(incident=incident, channel="slack",
                                            target__startswith=blocks.OWN_CHANNEL_PREFIX)
                .values_list("target", flat=True).first())
    if existing:  # a later title change must not make a second channel
        return [existing]
    name = blocks.channel_name({"id": incident.pk, "title": incident.title,
                                "service": incident.service.name if incident.service else ""})
    return [blocks.OWN_CHANNEL_PREFIX + name]


CHANNEL = MessageChannel(
    name="slack", label="Slack", sender=SlackSender(), events=EVENTS, templates=TEMPLATES, escape=blocks.escape,
    order=10, incident_targets=own_channel_targets,
    # Each escalation is told in the incident's thread as well as paged to the level's targets.
    routes_hear_targeted=True,
)


def register() -> None:
    registry.add_message_channel(CHANNEL)
