"""Silences from the incident page, against the real Alertmanager binary (docs/alertmanager.md section 4)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from incidents.integrations.alertmanager.client import AlertmanagerClient
from incidents.integrations.alertmanager.models import Alert, AlertStatus, Integration, Silence
from incidents.integrations.alertmanager.silences import (
    silence_create,
    silence_expire,
    silence_is_expired,
    silence_refresh,
)
from incidents.lifecycle import incident_open
from incidents.models import EventKind, Incident, Severity, Source
from opsportal.lib.exceptions import ApplicationError, ConflictError

from .am_process import RunningAlertmanager, free_port, run_alertmanager

# Alertmanager listens on 127.0.0.1 here; the responder is in the Responders group unless a test
# says otherwise (test_silence_permissions.py covers users without it).
pytestmark = pytest.mark.usefixtures("allow_loopback", "responder_may_silence")


def make_integration(*, alertmanager_url: str = "", name: str = "prod-am") -> Integration:
    token = secrets.token_hex(16)
    return Integration.objects.create(
        name=name, token_hash=secrets.token_hex(32), token_prefix=token[:8], alertmanager_url=alertmanager_url
    )


def make_incident(
    integration: Integration, severity: Severity, labels_list: list[dict[str, str]]
) -> Incident:
    incident = incident_open(
        title="5xx rate above 5% (checkout)", severity=severity, source=Source.ALERTMANAGER
    )
    now = timezone.now()
    for i, labels in enumerate(labels_list):
        Alert.objects.create(
            integration=integration,
            incident=incident,
            fingerprint=f"{i:016x}",
            status=AlertStatus.FIRING,
            labels=labels,
            annotations={"summary": "5xx rate above 5%"},
            starts_at=now,
            first_seen_at=now,
            last_seen_at=now,
        )
    return incident


CHECKOUT = [
    {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical", "instance": "web-1:8080"},
    {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical", "instance": "web-2:8080"},
]


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[RunningAlertmanager]:
    with run_alertmanager(tmp_path / "am") as am:
        yield am


@pytest.mark.alertmanager
@pytest.mark.django_db
def test_it_creates_a_silence_in_alertmanager_matching_the_labels_all_alerts_share(
    alertmanager: RunningAlertmanager, p1: Severity, responder
) -> None:
    incident = make_incident(make_integration(alertmanager_url=alertmanager.url), p1, CHECKOUT)

    silence = silence_create(
        incident=incident, duration=timedelta(hours=4), comment="deploying a fix", actor=responder
    )

    remote = AlertmanagerClient(alertmanager.url).get_silence(silence.silence_id)
    assert remote["status"]["state"] == "active"
    assert {(m["name"], m["value"], m["isRegex"]) for m in remote["matchers"]} == {
        ("alertname", "HighErrorRate", False),
        ("service", "checkout", False),
        ("severity", "critical", False),
    }
    assert "deploying a fix" in remote["comment"]
    assert remote["createdBy"].startswith("responder")
    assert Silence.objects.get(pk=silence.pk).silence_id == remote["id"]
    event = incident.events.get(kind=EventKind.SILENCE)
    assert "4h" in event.message and "deploying a fix" in event.message
    assert event.actor == responder


@pytest.mark.alertmanager
@pytest.mark.django_db
def test_it_expires_the_silence_in_alertmanager(
    alertmanager: RunningAlertmanager, p1: Severity, responder
) -> None:
    incident = make_incident(make_integration(alertmanager_url=alertmanager.url), p1, CHECKOUT)
    silence = silence_create(incident=incident, duration=timedelta(hours=1), comment="noisy", actor=responder)

    expired = silence_expire(silence=silence, actor=responder)

    assert (
        AlertmanagerClient(alertmanager.url).get_silence(silence.silence_id)["status"]["state"] == "expired"
    )
    assert expired.state == Silence.State.EXPIRED and silence_is_expired(expired)
    assert incident.events.filter(kind=EventKind.SILENCE, message__startswith="Expired").count() == 1
    with pytest.raises(ConflictError, match="already expired"):
        silence_expire(silence=expired, actor=responder)


@pytest.mark.alertmanager
@pytest.mark.django_db
def test_it_notices_a_silence_expired_in_alertmanager_itself(
    alertmanager: RunningAlertmanager, p1: Severity, responder
) -> None:
    incident = make_incident(make_integration(alertmanager_url=alertmanager.url), p1, CHECKOUT)
    silence = silence_create(incident=incident, duration=timedelta(hours=1), comment="noisy", actor=responder)
    AlertmanagerClient(alertmanager.url).expire_silence(silence.silence_id)

    refreshed = silence_refresh(silence=silence, actor=responder)

    assert refreshed.state == Silence.State.EXPIRED
    assert Silence.objects.get(pk=silence.pk).state == Silence.State.EXPIRED


@pytest.mark.alertmanager
@pytest.mark.django_db
def test_it_says_alertmanager_refused_with_its_status_and_our_matchers_not_its_answer(
    alertmanager: RunningAlertmanager, p1: Severity, responder
) -> None:
    # Alertmanager 0.25 rejects label names outside [a-zA-Z_][a-zA-Z0-9_]* in silence matchers.
    incident = make_incident(make_integration(alertmanager_url=alertmanager.url), p1, [{"bad-name": "x"}])

    with pytest.raises(ApplicationError) as raised:
        silence_create(incident=incident, duration=timedelta(hours=1), comment="noisy", actor=responder)

    message = raised.value.message
    assert "answered 400 Bad Request" in message and "server log" in message
    assert 'The silence matched bad-name="x".' in message  # what we sent, so the person can fix it
    assert "invalid label name" not in message.lower()  # Alertmanager's own words stay in the log
    assert not Silence.objects.exists()
    assert not incident.events.filter(kind=EventKind.SILENCE).exists()


@pytest.mark.django_db
def test_it_refuses_when_the_integration_has_no_alertmanager_url(p1: Severity, responder) -> None:
    incident = make_incident(make_integration(alertmanager_url=""), p1, CHECKOUT)

    with pytest.raises(ApplicationError, match="no Alertmanager API URL"):
        silence_create(incident=incident, duration=timedelta(hours=1), comment="noisy", actor=responder)
    assert not Silence.objects.exists()


@pytest.mark.django_db
def test_it_says_alertmanager_is_unreachable(p1: Severity, responder) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    incident = make_incident(make_integration(alertmanager_url=url), p1, CHECKOUT)

    with pytest.raises(ApplicationError) as raised:
        silence_create(incident=incident, duration=timedelta(hours=1), comment="noisy", actor=responder)

    assert raised.value.message.startswith("Alertmanager is unreachable")
    assert url in raised.value.message and "connection refused" in raised.value.message
    assert not Silence.objects.exists()


@pytest.mark.django_db
def test_it_refuses_alerts_that_share_no_label(p1: Severity, responder) -> None:
    incident = make_incident(
        make_integration(alertmanager_url="http://127.0.0.1:9"),
        p1,
        [{"alertname": "DiskFull"}, {"alertname": "HighLatency"}],
    )

    with pytest.raises(ApplicationError, match="share no label"):
        silence_create(incident=incident, duration=timedelta(hours=1), comment="noisy", actor=responder)


@pytest.mark.django_db
def test_it_refuses_an_incident_without_alerts(p1: Severity, responder) -> None:
    incident = incident_open(title="Manual", severity=p1, source=Source.WEB)

    with pytest.raises(ApplicationError, match="no Alertmanager alerts"):
        silence_create(incident=incident, duration=timedelta(hours=1), comment="noisy", actor=responder)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("duration", "comment", "field"),
    [
        (timedelta(hours=1), "   ", "comment"),
        (timedelta(seconds=10), "noisy", "duration"),
        (timedelta(days=91), "noisy", "duration"),
    ],
)
def test_it_refuses_a_blank_comment_or_an_odd_duration(
    p1: Severity, responder, duration: timedelta, comment: str, field: str
) -> None:
    incident = make_incident(make_integration(alertmanager_url="http://127.0.0.1:9"), p1, CHECKOUT)

    with pytest.raises(ApplicationError) as raised:
        silence_create(incident=incident, duration=duration, comment=comment, actor=responder)
    assert raised.value.extra["field"] == field


@pytest.mark.django_db
def test_it_shows_a_silence_past_its_end_as_expired(p1: Severity, responder) -> None:
    integration = make_integration(alertmanager_url="http://127.0.0.1:9")
    incident = make_incident(integration, p1, CHECKOUT)
    now = timezone.now()
    silence = Silence.objects.create(
        incident=incident,
        integration=integration,
        silence_id="x",
        matchers=[],
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(minutes=1),
        comment="old",
    )

    assert silence.state == Silence.State.ACTIVE
    assert silence_is_expired(silence)


@pytest.mark.alertmanager
@pytest.mark.django_db
def test_it_records_a_silence_alertmanager_no_longer_knows_as_expired(
    alertmanager: RunningAlertmanager, p1: Severity, responder
) -> None:
    # e.g. Alertmanager's storage was wiped: expiring or refreshing must not leave it "active" forever.
    integration = make_integration(alertmanager_url=alertmanager.url)
    incident = make_incident(integration, p1, CHECKOUT)
    now = timezone.now()
    gone = [
        Silence.objects.create(
            incident=incident,
            integration=integration,
            silence_id=str(uuid.uuid4()),
            matchers=[],
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            comment="old",
        )
        for _ in range(2)
    ]

    expired = silence_expire(silence=gone[0], actor=responder)
    refreshed = silence_refresh(silence=gone[1], actor=responder)

    assert expired.state == Silence.State.EXPIRED and refreshed.state == Silence.State.EXPIRED
    assert (
        incident.events.filter(kind=EventKind.SILENCE, message__contains="gone from Alertmanager").count()
        == 2
    )
