"""Who a Slack user is in Opsportal, and the reverse (docs/slack.md, "Linking accounts").

A Slack user is matched to the active Opsportal user with the same email as their Slack profile,
asked of Slack once (``users.info``) and stored as a :class:`SlackUserLink`; an admin may also add
a link by hand. Both directions talk to Slack, so they run in tasks, never in a request.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from .models import SlackUserLink

log = logging.getLogger(__name__)


def linked_user(*, team_id: str, slack_user_id: str) -> AbstractBaseUser | None:
    """The Opsportal user a Slack user is linked to, without asking Slack (fast: for requests)."""
    link = (SlackUserLink.objects.filter(team_id=team_id, slack_user_id=slack_user_id)
            .select_related("user").first())
    return link.user if link is not None and link.user.is_active else None


def slack_user_resolve(*, team_id: str, slack_user_id: str, client: WebClient) -> AbstractBaseUser | None:
    """The linked user, else the one whose email matches the Slack profile's (the link is then
    stored). None when there is no single active user with that email, or Slack will not say."""
    user = linked_user(team_id=team_id, slack_user_id=slack_user_id)
    if user is not None:
        return user
    try:
        answer = client.users_info(user=slack_user_id)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("Slack users.info failed: %s", exc)
        return None
    profile = (answer.get("user") or {}).get("profile") or {}
    email = str(profile.get("email") or "").strip()
    if not email:
        return None
    matches = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
    if len(matches) != 1:
        return None
    try:
        SlackUserLink.objects.create(team_id=team_id, slack_user_id=slack_user_id, user=matches[0], email=email)
    except IntegrityError:  # a concurrent press made the link first
        pass
    return matches[0]


def slack_id_for_user(user: AbstractBaseUser, *, client: WebClient) -> str:
    """The Slack user id of an Opsportal user: a stored link, else ``users.lookupByEmail``."""
    link = SlackUserLink.objects.filter(user_id=user.pk).order_by("-created_at").first()
    if link is not None:
        return link.slack_user_id
    email = str(getattr(user, "email", "") or "")
    if not email:
        return ""
    try:
        answer = client.users_lookupByEmail(email=email)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("Slack users.lookupByEmail failed: %s", exc)
        return ""
    found = answer.get("user") or {}
    slack_id, team_id = str(found.get("id") or ""), str(found.get("team_id") or "")
    if slack_id and team_id:
        SlackUserLink.objects.get_or_create(team_id=team_id, slack_user_id=slack_id,
                                            defaults={"user_id": user.pk, "email": email})
    return slack_id
