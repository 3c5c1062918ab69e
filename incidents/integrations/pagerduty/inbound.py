"""What a PagerDuty v3 webhook changes (docs/pagerduty.md, "From PagerDuty back to Opsportal").

``incident.acknowledged`` and ``incident.resolved`` acknowledge or resolve the incident whose key
is the PagerDuty incident's ``incident_key`` (our dedup key), through the lifecycle with source
``pagerduty``, so the change reaches every other channel but is not sent back to PagerDuty. Every
event id is remembered in the same transaction as the change, so a redelivery changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Incident, Source
from opsportal.lib.exceptions import ApplicationError, ConflictError

from .models import WebhookEvent

log = logging.getLogger(__name__)
HANDLED = {"incident.acknowledged": "acknowledge", "incident.resolved": "resolve"}
ID_MAX = 64
NAME_MAX = 200
URL_MAX = 500


@dataclass(frozen=True)
class WebhookEventIn:
    """The parts of a v3 webhook payload we use."""

    id: str
    event_type: str
    incident_key: str
    agent: dict[str, Any]
    html_url: str


@dataclass(frozen=True)
class WebhookResult:
    status: str  # "changed", "ignored" or "duplicate"
    message: str
    incident: int | None = None

    def as_response(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, "incident": self.incident}


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_payload", extra={"field": field})


def parse_webhook(data: Any) -> WebhookEventIn:
    """Validate the payload's shape; ApplicationError (400) naming the field otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get("event"), dict):
        raise _invalid('The body must be a JSON object with an "event" object (a v3 webhook).', "event")
    event = data["event"]
    event_id, event_type = event.get("id"), event.get("event_type")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > ID_MAX:
        raise _invalid(f'"event.id" must be a non-empty string of at most {ID_MAX} characters.', "event.id")
    if not isinstance(event_type, str) or not event_type:
        raise _invalid('"event.event_type" must be a non-empty string.', "event.event_type")
    incident_key, html_url = "", ""
    if event_type in HANDLED:
        incident = event.get("data")
        if not isinstance(incident, dict):
            raise _invalid(f'"event.data" must be the incident object of an {event_type} event.', "event.data")
        key = incident.get("incident_key")
        if key is not None and not isinstance(key, str):
            raise _invalid('"event.data.incident_key" must be a string or null.', "event.data.incident_key")
        incident_key = key or ""
        url = incident.get("html_url")
        html_url = url[:URL_MAX] if isinstance(url, str) and url.startswith("https://") else ""
    agent = event.get("agent") if isinstance(event.get("agent"), dict) else {}
    return WebhookEventIn(id=event_id.strip(), event_type=event_type, incident_key=incident_key,
                          agent=agent or {}, html_url=html_url or "")


def webhook_apply(*, event: WebhookEventIn, now: datetime | None = None) -> WebhookResult:
    """Apply one webhook event at most once. Anything that cannot change an incident (another event
    type, an incident we do not know, one already acknowledged or resolved) is answered, not
    refused: PagerDuty would drop a refused webhook anyway, and it was not wrong to send it."""
    action = HANDLED.get(event.event_type)
    if action is None:
        return WebhookResult("ignored", f"{event.event_type} events change nothing in Opsportal.")
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                seen = WebhookEvent.objects.create(event_id=event.id, event_type=event.event_type,
                                                   incident_key=event.incident_key[:255], received_at=now)
        except IntegrityError:
            return WebhookResult("duplicate", f"Event {event.id} was already handled; nothing changed.")
        result = _apply(event, action)
        seen.outcome = result.message[:200]
        seen.save(update_fields=["outcome"])
    log.info("pagerduty webhook", extra={"event_id": event.id, "event_type": event.event_type,
                                         "status": result.status, "incident": result.incident})
    return result


def _apply(event: WebhookEventIn, action: str) -> WebhookResult:
    if not event.incident_key:
        return WebhookResult("ignored", "The PagerDuty incident has no incident_key; it is not one of ours.")
    incident = Incident.objects.filter(key=event.incident_key).only("pk").first()
    if incident is None:
        return WebhookResult("ignored", f'No incident has the key "{event.incident_key[:80]}".')
    actor, name = agent_user(event.agent)
    verb = "Acknowledged" if action == "acknowledge" else "Resolved"
    note = f"{verb} in PagerDuty by {name}." + (f" {event.html_url}" if event.html_url else "")
    try:
        if action == "acknowledge":
            lifecycle.incident_acknowledge(incident=incident, actor=actor, source=Source.PAGERDUTY, note=note)
        else:
            lifecycle.incident_resolve(incident=incident, actor=actor, source=Source.PAGERDUTY, note=note)
    except ConflictError as exc:  # already acknowledged or resolved here: PagerDuty caught up with us
        return WebhookResult("ignored", exc.message, incident.pk)
    return WebhookResult("changed", f"Incident #{incident.pk} {verb.lower()}.", incident.pk)


def agent_user(agent: dict[str, Any]) -> tuple[AbstractBaseUser | None, str]:
    """The Opsportal user behind a PagerDuty agent, and the name to show. A v3 agent is a user
    reference (id and name, ``summary``); its email is used when present. Otherwise the one active
    user whose full name is the agent's name; else nobody, and the name goes into the note."""
    name = str(agent.get("summary") or agent.get("name") or "").strip()[:NAME_MAX]
    users = get_user_model().objects.filter(is_active=True)
    email = agent.get("email")
    if isinstance(email, str) and email.strip():
        by_email = list(users.filter(email__iexact=email.strip())[:2])
        if len(by_email) == 1:
            return by_email[0], name or email.strip()
    if name and " " in name:
        first, _, last = name.partition(" ")
        by_name = list(users.filter(first_name__iexact=first, last_name__iexact=last.strip())[:2])
        if len(by_name) == 1:
            return by_name[0], name
    return None, name or ("a PagerDuty automation" if agent.get("type") != "user_reference" else "a PagerDuty user")


def webhook_events_prune(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - settings.PAGERDUTY_WEBHOOK_RETENTION
    deleted, _ = WebhookEvent.objects.filter(received_at__lt=cutoff).delete()
    return deleted
