"""Celery tasks of the Slack integration: thin, they call the service modules."""

from __future__ import annotations

from celery import shared_task

from incidents.models import Incident

from . import interactions, invites


@shared_task(ignore_result=True)
def slack_action_task(action_id: str, incident_id: int, team_id: str, slack_user_id: str,
                      response_url: str) -> bool:
    """A button pressed by a Slack user not linked yet: look them up, then act or explain."""
    return interactions.action_complete(action_id=action_id, incident_id=incident_id, team_id=team_id,
                                        slack_user_id=slack_user_id, response_url=response_url)


@shared_task(ignore_result=True)
def slack_declare_modal_task(trigger_id: str, title: str, team_id: str, slack_user_id: str,
                             response_url: str) -> bool:
    """``/incident declare``: open the modal (Slack's trigger_id lasts 3 seconds: no retry)."""
    return interactions.declare_modal_open(trigger_id=trigger_id, title=title, team_id=team_id,
                                           slack_user_id=slack_user_id, response_url=response_url)


@shared_task(ignore_result=True)
def slack_respond_task(response_url: str, text: str) -> bool:
    """An ephemeral answer to the user who pressed a button (e.g. "already resolved")."""
    return interactions.respond(response_url, text)


@shared_task(ignore_result=True)
def slack_invite_task(incident_id: int) -> int:
    """Invite the recorded people into the incident's channel, if it exists yet."""
    incident = Incident.objects.filter(pk=incident_id).first()
    return invites.invites_send(incident) if incident is not None else 0
