"""Editing message templates: the services every entry point (pages, API, admin) calls. A template
that does not render against a real or sample incident is refused at save with the error."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from incidents.models import Incident
from incidents.registry import registry
from opsportal.lib.actors import Actor, stored_user
from opsportal.lib.exceptions import ApplicationError, NotFoundError

from .channels import MessageChannel
from .defaults import DEFAULTS, EVENT_LABELS
from .models import MessageTemplate
from .rendering import template_check


@dataclass(frozen=True)
class TemplateEntry:
    """One event on one channel, as the editor lists it."""

    channel: str
    channel_label: str
    event: str
    event_label: str
    subject: str
    body: str
    is_default: bool
    default_subject: str
    default_body: str


def _channel(name: str) -> MessageChannel:
    channel = registry.message_channel(name)
    if channel is None:
        known = ", ".join(c.name for c in registry.message_channels) or "none installed"
        raise NotFoundError(f"Unknown channel “{name}” (channels: {known}).")
    return channel


def _default(channel: MessageChannel, event: str) -> tuple[str, str]:
    return channel.templates.get(event) or DEFAULTS.get(event) or ("", "{{ event.label }}: {{ event.message }}")


def template_entry(*, channel: str, event: str) -> TemplateEntry:
    ch = _channel(channel)
    if event not in ch.events:
        raise NotFoundError(f"{ch.label} does not announce “{event}” (it announces: {', '.join(sorted(ch.events))}).")
    row = MessageTemplate.objects.filter(channel=channel, event=event).first()
    default_subject, default_body = _default(ch, event)
    return TemplateEntry(
        channel=ch.name, channel_label=ch.label, event=event, event_label=EVENT_LABELS.get(event, event),
        subject=row.subject if row else default_subject, body=row.body if row else default_body,
        is_default=row is None, default_subject=default_subject, default_body=default_body,
    )


def template_entries() -> list[TemplateEntry]:
    """Every event of every installed channel, in the order people meet them."""
    order = list(EVENT_LABELS)
    return [
        template_entry(channel=ch.name, event=event)
        for ch in registry.message_channels
        for event in sorted(ch.events, key=lambda e: order.index(e) if e in order else len(order))
    ]


@transaction.atomic
def template_update(*, channel: str, event: str, subject: str, body: str, actor: Actor,
                    incident: Incident | None = None) -> TemplateEntry:
    """Save the wording of ``event`` on ``channel``; refused (ApplicationError naming subject or
    body) when it does not render against ``incident`` or a sample one."""
    template_entry(channel=channel, event=event)  # the pair must exist
    if not isinstance(subject, str) or not isinstance(body, str):
        raise ApplicationError("Subject and body must be text.", code="invalid", extra={"field": "body"})
    template_check(subject, body, incident=incident, kind=event)
    MessageTemplate.objects.update_or_create(
        channel=channel, event=event, defaults={"subject": subject, "body": body, "updated_by": stored_user(actor)}
    )
    return template_entry(channel=channel, event=event)


@transaction.atomic
def template_reset(*, channel: str, event: str) -> TemplateEntry:
    """Back to the built-in wording."""
    template_entry(channel=channel, event=event)
    MessageTemplate.objects.filter(channel=channel, event=event).delete()
    return template_entry(channel=channel, event=event)


def template_preview(*, channel: str, event: str, subject: str, body: str,
                     incident: Incident | None = None) -> dict[str, str]:
    """What the message would say, without saving: {"subject", "body"}; ApplicationError when
    it does not render."""
    template_entry(channel=channel, event=event)
    return template_check(subject, body, incident=incident, kind=event)
