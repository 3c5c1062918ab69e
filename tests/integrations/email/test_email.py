"""Email: one threaded email per batch through Django's mail backend; SMTP errors dead or retried."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Severity, Source
from incidents.notifications import outbox
from incidents.notifications.models import Conversation, Delivery, Route

from .smtp_server import SMTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def recipients(settings) -> None:
    settings.NOTIFY_EMAIL_TO = "oncall@example.com, Ops list <ops@example.com>"
    settings.PAGERDUTY_ROUTING_KEY = ""


def flush_email(now=None) -> int:
    return sum(outbox.conversation_flush(pk, now=now or timezone.now())
               for pk in Conversation.objects.filter(channel="email").values_list("pk", flat=True))


def email_deliveries() -> list[Delivery]:
    return list(Delivery.objects.filter(channel="email").order_by("created_at", "id"))


def test_a_burst_is_one_email_and_later_emails_thread_under_the_first(p1: Severity) -> None:
    incident = lifecycle.incident_open(title="Checkout <script>alert(1)</script> down", severity=p1,
                                       source=Source.WEB)
    lifecycle.incident_add_note(incident=incident, text="Rolling back deploy 4812", actor=None, source=Source.WEB)
    lifecycle.incident_add_note(incident=incident, text="Error rate falling", actor=None, source=Source.WEB)

    assert flush_email() == 3
    (first,) = mail.outbox
    assert first.to == ["oncall@example.com", "Ops list <ops@example.com>"]
    assert first.subject == f"INCIDENT ALERT - P1 · #{incident.pk} Checkout <script>alert(1)</script> down"
    root = f"<incident-{incident.key}@127.0.0.1>"
    assert first.extra_headers["Message-ID"] == root and "In-Reply-To" not in first.extra_headers
    assert first.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "INCIDENT ALERT - P1" in first.body and "Rolling back deploy 4812" in first.body
    assert first.body.index("Rolling back") < first.body.index("Error rate falling")
    assert isinstance(first, EmailMultiAlternatives)
    html, mimetype = first.alternatives[0]
    assert isinstance(html, str)
    assert mimetype == "text/html" and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html

    lifecycle.incident_acknowledge(incident=incident, actor=None, source=Source.WEB)
    flush_email()
    lifecycle.incident_resolve(incident=incident, actor=None, source=Source.WEB, note="Rolled back")
    flush_email()
    second, third = mail.outbox[1:]
    assert second.subject.startswith("Acknowledged - P1")
    assert second.extra_headers["In-Reply-To"] == root and second.extra_headers["References"] == root
    assert second.extra_headers["Message-ID"] not in (root, third.extra_headers["Message-ID"])
    assert third.extra_headers["In-Reply-To"] == second.extra_headers["Message-ID"]
    assert third.extra_headers["References"] == f"{root} {second.extra_headers['Message-ID']}"
    assert {d.status for d in email_deliveries()} == {"sent"}


def test_routes_send_to_their_lists_and_nothing_is_sent_unconfigured(p1: Severity, settings) -> None:
    settings.NOTIFY_EMAIL_TO = ""
    lifecycle.incident_open(title="Quiet", severity=p1, source=Source.WEB)
    assert [d.status for d in email_deliveries()] == ["preview"]

    Route.objects.create(channel="email", target="payments-oncall@example.com")
    lifecycle.incident_open(title="Card payments failing", severity=p1, source=Source.WEB)
    flush_email()
    assert [m.to for m in mail.outbox] == [["payments-oncall@example.com"]]


def test_a_bad_address_is_dead_at_once(p1: Severity, settings) -> None:
    settings.NOTIFY_EMAIL_TO = "oncall@example.com, not an address"
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    flush_email()
    (delivery,) = email_deliveries()
    assert delivery.status == "dead" and '"not an address" is not an email address' in delivery.last_error
    assert not mail.outbox


@pytest.fixture
def smtp(settings) -> Iterator[SMTPServer]:
    server = SMTPServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    yield server
    server.close()


def test_over_smtp_a_5xx_is_dead_and_a_4xx_is_retried(p1: Severity, smtp: SMTPServer) -> None:
    smtp.rcpt_reply = "550 5.1.1 No such user"
    lifecycle.incident_open(title="Refused", severity=p1, source=Source.WEB)
    flush_email()
    (refused,) = email_deliveries()
    assert refused.status == "dead" and "550" in refused.last_error and "No such user" in refused.last_error

    smtp.rcpt_reply, smtp.data_reply = "250 OK", "451 4.3.0 Try again later"
    lifecycle.incident_open(title="Greylisted", severity=p1, source=Source.WEB)
    flush_email()
    greylisted = email_deliveries()[1]
    assert greylisted.status == "failed" and "451" in greylisted.last_error

    smtp.data_reply = "250 OK queued"
    flush_email(now=timezone.now() + timedelta(hours=1))
    greylisted.refresh_from_db()
    assert greylisted.status == "sent"
    sent = message_from_bytes(smtp.messages[-1], policy=default)
    assert sent["Message-ID"] == greylisted.external_ref and sent["Subject"].startswith("INCIDENT ALERT - P1 ·")


def test_an_unreachable_mail_server_is_retried(p1: Severity, settings) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    flush_email()
    (delivery,) = email_deliveries()
    assert delivery.status == "failed" and "ConnectionRefusedError" in delivery.last_error
