"""Inviting people into an incident's own Slack channel (docs/slack.md, "Incident channels").

``slack_invite`` is what escalation calls when it pages someone: it only records the wish (safe
inside the caller's transaction) and hands the Slack calls to a task after commit. The invitations
are sent as soon as the channel exists: at once if it does, else right after the first send
creates it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import current_app
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from slack_sdk import WebClient

from incidents.models import Incident
from incidents.notifications.channels import TransportError
from incidents.notifications.models import Conversation

from . import blocks
from .client import transport_error, web_client
from .models import SlackInvite
from .users import slack_id_for_user

INVITE_TASK = "incidents.integrations.slack.tasks.slack_invite_task"

log = logging.getLogger(__name__)


def slack_invite(incident: Incident, user_ids: Iterable[int]) -> list[SlackInvite]:
    """Invite these Opsportal users (by id) into the incident's own channel. Returns the invites
    recorded (already-recorded users are not invited twice)."""
    users = get_user_model().objects.filter(pk__in=list(user_ids), is_active=True)
    invites = [SlackInvite.objects.get_or_create(incident=incident, user=user)[0] for user in users]
    incident_id = incident.pk

    def enqueue() -> None:
        try:
            current_app.tasks[INVITE_TASK].delay(incident_id)
        except Exception:  # noqa: BLE001 - broker down: the channel's first send invites them anyway
            log.warning("could not enqueue Slack invitations", extra={"incident": incident_id})

    transaction.on_commit(enqueue)
    return invites


def own_channel_id(incident: Incident) -> str:
    conversation = Conversation.objects.filter(incident=incident, channel="slack",
                                               target__startswith=blocks.OWN_CHANNEL_PREFIX).first()
    return str((conversation.state or {}).get("channel_id", "")) if conversation else ""


def invites_send(incident: Incident, *, channel_id: str = "", client: WebClient | None = None) -> int:
    """Send the recorded invitations of an incident whose channel exists. Returns how many were
    sent; a person Slack does not know keeps the error on their row."""
    channel_id = channel_id or own_channel_id(incident)
    if not channel_id:
        return 0
    client = client or web_client()
    pending = list(SlackInvite.objects.filter(incident=incident, invited_at__isnull=True).select_related("user"))
    slack_ids: dict[int, str] = {}
    for invite in pending:
        slack_id = slack_id_for_user(invite.user, client=client)
        if slack_id:
            slack_ids[invite.pk] = slack_id
        else:
            invite.last_error = "No Slack user with this person's email."
            invite.save(update_fields=["last_error"])
    if not slack_ids:
        return 0
    try:
        client.conversations_invite(channel=channel_id, users=sorted(set(slack_ids.values())))
    except Exception as exc:  # noqa: BLE001 - recorded on the rows; the messages must still go out
        error: TransportError = transport_error(exc, "conversations.invite")
        SlackInvite.objects.filter(pk__in=slack_ids).update(last_error=error.message[:500])
        return 0
    SlackInvite.objects.filter(pk__in=slack_ids).update(invited_at=timezone.now(), last_error="")
    return len(slack_ids)
