"""What Slack users do: buttons on incident messages, the ``/incident`` command and its modal
(docs/slack.md, "Buttons and /incident").

The hooks call these after verifying Slack's signature. Slack wants an answer within 3 seconds, so
only database work happens here (a lifecycle call, a list); anything that talks to Slack (asking
who a new user is, opening a modal, an ephemeral reply) is handed to a task after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from slack_sdk.webhook import WebhookClient

from incidents import lifecycle
from incidents.models import OPEN_STATUSES, Incident, Service, Severity, Source
from incidents.notifications.rendering import incident_context
from opsportal.lib.exceptions import ApplicationError

from . import blocks
from .client import web_client
from .users import linked_user, slack_user_resolve

log = logging.getLogger(__name__)
LIST_MAX = 20
HELP = ("Usage: `/incident` or `/incident list` shows the open incidents; `/incident declare [title]` "
        "(or `/incident <title>`) declares one.")


def link_account_message(email: str = "") -> str:
    """What an unknown Slack user is told: how to be known here."""
    whose = f" ({blocks.escape(email)})" if email else ""
    return (f"Your Slack account{whose} is not linked to an Opsportal user, so nothing was changed. "
            "Link your account: set the same email on your Opsportal profile as on your Slack profile, "
            "or ask an Opsportal admin to add a Slack user link for you, then try again.")


class BadInteraction(ApplicationError):
    """A signed request we cannot act on (unknown action, an action value that is no incident id)."""


# --- buttons ---------------------------------------------------------------------------------

def interaction_handle(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """A signed interactivity payload. Returns the JSON body to answer with (modal errors), or
    None for an empty 200."""
    kind = payload.get("type")
    if kind == "block_actions":
        action_handle(payload)
        return None
    if kind == "view_submission":
        return view_submission_handle(payload)
    if kind == "view_closed":
        return None
    raise BadInteraction(f"Unsupported interaction type {kind!r}: this app handles block_actions and "
                         "view_submission.", code="unsupported")


def _who(payload: Mapping[str, Any]) -> tuple[str, str]:
    user = payload.get("user") or {}
    team = payload.get("team") or {}
    team_id = str(user.get("team_id") or team.get("id") or "")
    slack_user_id = str(user.get("id") or "")
    if not slack_user_id:
        raise BadInteraction("The payload names no user.", code="invalid")
    return team_id, slack_user_id


def action_handle(payload: Mapping[str, Any]) -> None:
    """Acknowledge or Resolve as the pressing user, if linked; else ask Slack who they are (task)."""
    actions = payload.get("actions") or []
    if not actions or not isinstance(actions[0], dict):
        raise BadInteraction("The payload has no action.", code="invalid")
    action = actions[0]
    action_id = str(action.get("action_id") or "")
    if action_id == blocks.OPEN_ACTION:  # a link button: Slack opens the URL, nothing to do here
        return
    if action_id not in ACTIONS:
        raise BadInteraction(f"Unknown action {action_id!r}.", code="invalid")
    try:
        incident_id = int(str(action.get("value")))
    except ValueError:
        raise BadInteraction(f"The action value {action.get('value')!r} is not an incident id.",
                             code="invalid") from None
    team_id, slack_user_id = _who(payload)
    response_url = str(payload.get("response_url") or "")
    user = linked_user(team_id=team_id, slack_user_id=slack_user_id)
    if user is None:
        _after_commit("slack_action_task", action_id, incident_id, team_id, slack_user_id, response_url)
        return
    action_perform(action_id=action_id, incident_id=incident_id, user=user, response_url=response_url)


def action_perform(*, action_id: str, incident_id: int, user: AbstractBaseUser, response_url: str) -> bool:
    """Do it through the lifecycle (source slack, actor the user). A refusal (already acknowledged,
    resolved) is told to the user privately. The outbox then posts the thread reply and updates
    the root message, as for a change made anywhere else."""
    try:
        ACTIONS[action_id](incident_id, user)
    except ApplicationError as exc:
        _after_commit("slack_respond_task", response_url, exc.message)
        return False
    return True


def action_complete(*, action_id: str, incident_id: int, team_id: str, slack_user_id: str,
                    response_url: str) -> bool:
    """The task half of a press by a user not linked yet: ask Slack for their email, link, act."""
    user = slack_user_resolve(team_id=team_id, slack_user_id=slack_user_id, client=web_client())
    if user is None:
        respond(response_url, link_account_message())
        return False
    return action_perform(action_id=action_id, incident_id=incident_id, user=user, response_url=response_url)


def _acknowledge(incident_id: int, user: AbstractBaseUser) -> None:
    lifecycle.incident_acknowledge(incident=incident_id, actor=user, source=Source.SLACK)


def _resolve(incident_id: int, user: AbstractBaseUser) -> None:
    lifecycle.incident_resolve(incident=incident_id, actor=user, source=Source.SLACK, note="Resolved from Slack.")


ACTIONS: dict[str, Callable[[int, AbstractBaseUser], None]] = {
    blocks.ACK_ACTION: _acknowledge,
    blocks.RESOLVE_ACTION: _resolve,
}


# --- /incident ---------------------------------------------------------------------------------

def command_handle(form: Mapping[str, str]) -> dict[str, Any] | None:
    """``/incident [list | help | declare [title] | <title>]``. Returns the ephemeral answer, or
    None when the answer comes later (the modal)."""
    command = form.get("command", "")
    if command != "/incident":
        raise BadInteraction(f"Unknown command {command!r}: this app handles /incident.", code="invalid")
    text = form.get("text", "").strip()
    word, _, rest = text.partition(" ")
    if word.lower() in ("", "list"):
        return open_incidents_message()
    if word.lower() == "help":
        return {"response_type": "ephemeral", "text": HELP}
    title = rest.strip() if word.lower() == "declare" else text
    trigger_id = form.get("trigger_id", "")
    if not trigger_id:
        raise BadInteraction("The command has no trigger_id to open the form with.", code="invalid")
    team_id, slack_user_id = form.get("team_id", ""), form.get("user_id", "")
    if not slack_user_id:
        raise BadInteraction("The command names no user.", code="invalid")
    _after_commit("slack_declare_modal_task", trigger_id, title, team_id, slack_user_id, form.get("response_url", ""))
    return None


def open_incidents_message() -> dict[str, Any]:
    rows = list(Incident.objects.filter(status__in=OPEN_STATUSES)
                .select_related("severity", "service", "commander")
                .order_by("severity__rank", "opened_at")[: LIST_MAX + 1])
    shown = [incident_context(i) for i in rows[:LIST_MAX]]
    more = 0
    if len(rows) > LIST_MAX:
        more = Incident.objects.filter(status__in=OPEN_STATUSES).count() - LIST_MAX
    return blocks.incident_list(shown, more=more)


def declare_modal_open(*, trigger_id: str, title: str, team_id: str, slack_user_id: str,
                       response_url: str) -> bool:
    """The task half of ``/incident declare``: a known user gets the modal (``views.open``), an
    unknown one the "link your account" answer."""
    client = web_client()
    user = slack_user_resolve(team_id=team_id, slack_user_id=slack_user_id, client=client)
    if user is None:
        respond(response_url, link_account_message())
        return False
    severities = [(s.name, f"{s.name} {s.label}") for s in Severity.objects.order_by("rank")]
    services = list(Service.objects.order_by("name").values_list("name", flat=True)[:100])
    view = blocks.declare_modal(title=title, severities=severities, services=services)
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except Exception as exc:  # noqa: BLE001 - told to the user; an expired trigger cannot be retried
        log.warning("Slack views.open failed: %s", exc)
        respond(response_url, "Could not open the form (Slack took too long); run the command again.")
        return False
    return True


def view_submission_handle(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The modal's Declare: open the incident through the lifecycle as the linked user. Problems
    are shown on the form's fields (Slack's ``response_action: errors``)."""
    view = payload.get("view") or {}
    if view.get("callback_id") != blocks.DECLARE_CALLBACK:
        raise BadInteraction(f"Unknown form {view.get('callback_id')!r}.", code="invalid")
    team_id, slack_user_id = _who(payload)
    user = linked_user(team_id=team_id, slack_user_id=slack_user_id)
    if user is None:
        return _form_errors(title=link_account_message())
    values = (view.get("state") or {}).get("values") or {}
    title = str(_input(values, "title", "value") or "").strip()
    severity_name = str(_input(values, "severity", "selected_option") or "")
    service_name = str(_input(values, "service", "selected_option") or "")
    severity = Severity.objects.filter(name=severity_name).first()
    if severity is None:
        return _form_errors(severity=f"Unknown severity {severity_name!r}.")
    service = Service.objects.filter(name=service_name).first() if service_name else None
    if service_name and service is None:
        return _form_errors(service=f"Unknown service {service_name!r}.")
    try:
        lifecycle.incident_open(title=title, severity=severity, service=service, source=Source.SLACK, actor=user)
    except ApplicationError as exc:
        field = str(exc.extra.get("field") or "title")
        return _form_errors(**{field if field in ("title", "severity", "service") else "title": exc.message})
    return None


def _input(values: Mapping[str, Any], block_id: str, key: str) -> Any:
    element = (values.get(block_id) or {}).get("value") or {}
    if key == "selected_option":
        return (element.get("selected_option") or {}).get("value")
    return element.get(key)


def _form_errors(**errors: str) -> dict[str, Any]:
    return {"response_action": "errors", "errors": {k: blocks.cut(v, 2000) for k, v in errors.items()}}


# --- replies -----------------------------------------------------------------------------------

def respond(response_url: str, text: str) -> bool:
    """An ephemeral message to the user who acted, through the request's ``response_url`` (which
    must be Slack's: SLACK_RESPONSE_URL_PREFIX)."""
    if not response_url or not response_url.startswith(settings.SLACK_RESPONSE_URL_PREFIX):
        log.warning("Slack response_url refused", extra={"response_url": response_url[:200]})
        return False
    try:
        answer = WebhookClient(response_url, timeout=int(max(1, settings.SLACK_TIMEOUT_SECONDS))).send(
            text=blocks.cut(text, blocks.FALLBACK_MAX), response_type="ephemeral", replace_original=False)
    except OSError as exc:
        log.warning("Slack ephemeral reply failed: %s", exc)
        return False
    return answer.status_code == 200


def _after_commit(task_name: str, *args: Any) -> None:
    """Hand Slack-facing work to a worker once the request's changes are committed."""
    def enqueue() -> None:
        try:
            current_app.tasks[f"incidents.integrations.slack.tasks.{task_name}"].delay(*args)
        except Exception:  # noqa: BLE001 - the broker is down: say so in the log; the user may press again
            log.exception("could not enqueue %s", task_name)

    transaction.on_commit(enqueue)
