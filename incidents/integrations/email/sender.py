"""The email sender: one email per batch (a burst of changes reads as one email listing every
message), threaded per incident with Message-ID / In-Reply-To / References, plain text with an
escaped HTML alternative (docs/email.md).

An SMTP 5xx (address or sender refused, authentication failed) will not get better by waiting: the
deliveries are dead at once. A 4xx, a dropped connection or a timeout is retried by the outbox.
"""

from __future__ import annotations

import logging
import re
import smtplib
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from incidents.models import TimelineEvent
from incidents.notifications.channels import Batch, Outcome, TransportError
from incidents.notifications.models import Route
from opsportal.lib import memo

from . import addresses

log = logging.getLogger(__name__)
CHANNEL = "email"
SUBJECT_MAX = 250


class EmailSender:
    def configured(self) -> bool:
        if settings.NOTIFY_EMAIL_TO.strip():
            return True
        return memo.config("email.routed", lambda: Route.objects.filter(channel=CHANNEL, enabled=True).exists())

    def default_targets(self) -> list[str]:
        return addresses.targets(settings.NOTIFY_EMAIL_TO)

    def announces(self, event: TimelineEvent) -> bool:
        return True

    def send(self, batch: Batch) -> Outcome:
        try:
            recipients = addresses.parse(batch.conversation.target)
        except addresses.InvalidAddress as exc:
            raise TransportError(f"{exc} Fix NOTIFY_EMAIL_TO or the email route.", permanent=True) from None
        state = dict(batch.conversation.state or {})
        message, message_id = build_message(batch, recipients, state)
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items())
            raise TransportError(f"The mail server refused every recipient: {detail}",
                                 permanent=all(code >= 500 for code in codes)) from None
        except smtplib.SMTPResponseException as exc:
            raise TransportError(f"The mail server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                                 permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:  # dropped connection, refused, timed out
            raise TransportError(f"The mail server could not be reached: {type(exc).__name__}: {exc}") from None
        log.info("email sent", extra={"message_id": message_id, "recipients": len(recipients),
                                      "messages": len(batch.deliveries)})
        state.setdefault("root_message_id", message_id)
        state["last_message_id"] = message_id
        return Outcome(sent={d.pk: message_id for d in batch.deliveries},
                       conversation={"external_ref": state["root_message_id"], "state": state})


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _domain() -> str:
    return urlsplit(settings.PUBLIC_URL).hostname or "opsportal.invalid"


def thread_ids(incident: dict[str, Any], first_delivery: int, state: dict[str, Any]) -> dict[str, str]:
    """The threading headers of the next email of a conversation. The first email's Message-ID is
    the incident's thread root; each later one answers the previous and refers to the root. Ids
    are derived from the incident and the delivery, so a retried email keeps its id."""
    root = f"<incident-{incident['key']}@{_domain()}>"
    if not state.get("root_message_id"):
        return {"Message-ID": root}
    previous = state.get("last_message_id") or state["root_message_id"]
    references = " ".join(dict.fromkeys([state["root_message_id"], previous]))
    return {
        "Message-ID": f"<incident-{incident['key']}.{first_delivery}@{_domain()}>",
        "In-Reply-To": previous,
        "References": references,
    }


def build_message(batch: Batch, recipients: list[str],
                  state: dict[str, Any]) -> tuple[EmailMultiAlternatives, str]:
    incident = batch.incident
    payloads = [d.payload for d in batch.deliveries]
    subject = re.sub(r"\s+", " ", payloads[0].get("subject") or "").strip()
    subject = subject or f"{incident['severity']} · #{incident['id']} {incident['title']}"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    context = {"incident": incident, "messages": [p.get("text", "") for p in payloads]}
    headers = thread_ids(incident, batch.deliveries[0].pk, state)
    # RFC 3834: no out-of-office replies to an automatic message.
    headers["Auto-Submitted"] = "auto-generated"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("email/incident_messages.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers=headers,
    )
    message.attach_alternative(render_to_string("email/incident_messages.html", context), "text/html")
    return message, headers["Message-ID"]
