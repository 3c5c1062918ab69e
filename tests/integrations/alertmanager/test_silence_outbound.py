"""No server-side request forgery through the Alertmanager URL (docs/security.md, "Outbound requests").

The URL is staff-only and checked at save; silences need a permission; the request goes through the
outbound guard; and an error never shows what the server answered. "Alertmanager" here is a real
local HTTP server that counts what it receives (or the real binary, where a silence must work).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.integrations.alertmanager.client import AlertmanagerClient
from incidents.integrations.alertmanager.integration import integration_create, integration_update
from incidents.integrations.alertmanager.models import Integration, Silence
from incidents.integrations.alertmanager.silences import (
    SilencePermissionError,
    silence_create,
    silence_expire,
    silence_refresh,
)
from incidents.models import Incident, Severity
from opsportal.lib.exceptions import ApplicationError

from .am_process import RunningAlertmanager, run_alertmanager
from .conftest import grant_silences
from .webhook_support import incident_with_alerts

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
SECRET = "db_password=hunter2-7f3a"


class FakeService(ThreadingHTTPServer):
    """Stands where an internal service would: answers 500 with a secret, or redirects."""

    def __init__(self, *, status: int = 500, location: str = ""):
        self.seen: list[str] = []
        self.status = status
        self.location = location
        super().__init__(("127.0.0.1", 0), FakeHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeHandler(BaseHTTPRequestHandler):
    server: FakeService

    def _answer(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        body = f"internal error: {SECRET}".encode()
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[FakeService]:
    srv = FakeService()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def active_silence(incident: Incident) -> Silence:
    now = timezone.now()
    return Silence.objects.create(
        incident=incident,
        integration=incident.alerts.first().integration,  # type: ignore[union-attr]
        silence_id="4c2b0d0e-0000-4000-8000-000000000001",
        matchers=[],
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        comment="noisy",
    )


# --- the error never carries the answer ----------------------------------------------------


def test_an_error_answer_is_named_by_its_status_never_by_its_body(
    settings, fake: FakeService, p1: Severity, responder_may_silence, responder_client: Client
) -> None:
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    incident = incident_with_alerts(p1, alertmanager_url=fake.url)

    with pytest.raises(ApplicationError) as raised:
        silence_create(incident=incident, duration=timedelta(hours=1), comment="x", actor=responder_may_silence)
    page = responder_client.post(
        reverse("alertmanager:silence-create", args=[incident.pk]), {"duration": "1h", "comment": "x"}, headers=HTMX
    ).content.decode()

    assert f"Alertmanager at {fake.url} answered 500 Internal Server Error" in raised.value.message
    assert SECRET not in raised.value.message and "hunter2" not in raised.value.message
    assert "answered 500 Internal Server Error" in page and "hunter2" not in page
    assert fake.seen == ["POST /api/v2/silences", "POST /api/v2/silences"]


def test_a_redirect_from_the_alertmanager_url_is_not_followed(
    settings, fake: FakeService, p1: Severity, responder_may_silence
) -> None:
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    fake.status, fake.location = 307, "http://169.254.169.254/latest/meta-data/"
    incident = incident_with_alerts(p1, alertmanager_url=fake.url)

    with pytest.raises(ApplicationError) as raised:
        silence_create(incident=incident, duration=timedelta(hours=1), comment="x", actor=responder_may_silence)

    assert "answered 307 Temporary Redirect, a redirect, which Opsportal does not follow" in raised.value.message
    assert "169.254" not in raised.value.message and "hunter2" not in raised.value.message


def test_a_loopback_alertmanager_url_is_refused_unless_allowed(
    fake: FakeService, p1: Severity, responder_may_silence
) -> None:
    incident = incident_with_alerts(p1, alertmanager_url=fake.url)

    with pytest.raises(ApplicationError) as raised:
        silence_create(incident=incident, duration=timedelta(hours=1), comment="x", actor=responder_may_silence)

    assert raised.value.message.startswith("Alertmanager was not asked:")
    assert "127.0.0.1, a loopback address" in raised.value.message
    assert fake.seen == []


# --- the URL at save ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://169.254.169.254#@alertmanager:9093", "without “?” or “#”"),
        ("http://internal-admin:8080/secrets#", "without “?” or “#”"),
        ("http://internal-admin:8080/secrets?x=", "without “?” or “#”"),
        ("http://alertmanager:9093@169.254.169.254/", "user name or password"),
        ("http://@169.254.169.254/", "user name or password"),
        ("http://169.254.169.254/", "never sends requests there"),
        ("http://[::ffff:169.254.169.254]:9093", "never sends requests there"),
    ],
)
def test_trick_urls_are_refused_at_save(url: str, words: str) -> None:
    with pytest.raises(ApplicationError) as created:
        integration_create(name="trick", alertmanager_url=url)
    integration, _ = integration_create(name="fine", alertmanager_url="http://alertmanager:9093")
    with pytest.raises(ApplicationError) as updated:
        integration_update(integration=integration, alertmanager_url=url)

    for raised in (created, updated):
        assert raised.value.extra["field"] == "alertmanager_url" and words in raised.value.message
    assert Integration.objects.get().alertmanager_url == "http://alertmanager:9093"


def test_the_settings_form_names_the_trick(staff_client: Client) -> None:
    integration, _ = integration_create(name="prod-am")
    form = {
        "name": "prod-am", "grouping": "group_key", "severity_label": "severity",
        "severity_mapping": "critical=P1", "reopen_window": "1h", "auto_resolve": "on",
        "alertmanager_url": "http://169.254.169.254#@alertmanager:9093",
    }

    response = staff_client.post(reverse("alertmanager:integration-edit", args=[integration.pk]), form)

    assert response.status_code == 400
    assert "without “?” or “#”" in response.content.decode()
    assert Integration.objects.get().alertmanager_url == ""


# --- silences need a permission ------------------------------------------------------------


def test_a_user_without_the_permission_gets_403_and_alertmanager_is_never_asked(
    settings, fake: FakeService, p1: Severity, responder, responder_client: Client
) -> None:
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    incident = incident_with_alerts(p1, alertmanager_url=fake.url)
    silence = active_silence(incident)

    created = responder_client.post(
        reverse("alertmanager:silence-create", args=[incident.pk]), {"duration": "1h", "comment": "x"}, headers=HTMX
    )
    expired = responder_client.post(reverse("alertmanager:silence-expire", args=[silence.pk]), headers=HTMX)
    refreshed = responder_client.post(reverse("alertmanager:silence-refresh", args=[incident.pk]), headers=HTMX)

    for response in (created, expired, refreshed):
        assert response.status_code == 403
        assert "You may not create or expire Alertmanager silences" in response.content.decode()
    calls: tuple[Callable[[], object], ...] = (
        lambda: silence_create(incident=incident, duration=timedelta(hours=1), comment="x", actor=responder),
        lambda: silence_expire(silence=silence, actor=responder),
        lambda: silence_refresh(silence=silence, actor=responder),
    )
    for call in calls:
        with pytest.raises(SilencePermissionError):
            call()
    assert fake.seen == []
    assert Silence.objects.get().state == Silence.State.ACTIVE


def test_the_panel_offers_silencing_only_to_users_who_may(
    p1: Severity, responder, responder_client: Client
) -> None:
    incident = incident_with_alerts(p1, alertmanager_url="http://alertmanager.example:9093")
    silence = active_silence(incident)
    create_url = reverse("alertmanager:silence-create", args=[incident.pk])
    expire_url = reverse("alertmanager:silence-expire", args=[silence.pk])

    before = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    grant_silences(responder)
    after = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert create_url not in before and expire_url not in before
    assert 'data-testid="no-silence-permission"' in before and "“Responders” group" in before
    assert create_url in after and expire_url in after
    assert 'data-testid="no-silence-permission"' not in after


@pytest.fixture
def alertmanager(tmp_path: Path, allow_loopback) -> Iterator[RunningAlertmanager]:
    with run_alertmanager(tmp_path / "am") as am:
        yield am


@pytest.mark.alertmanager
def test_a_member_of_the_responders_group_silences_through_the_page(
    alertmanager: RunningAlertmanager, p1: Severity, django_user_model
) -> None:
    member = grant_silences(django_user_model.objects.create_user("oncall", "oncall@example.com", None))
    client = Client()
    client.force_login(member)
    incident = incident_with_alerts(p1, alertmanager_url=alertmanager.url)

    created = client.post(
        reverse("alertmanager:silence-create", args=[incident.pk]), {"duration": "1h", "comment": "fix"}, headers=HTMX
    )
    silence = Silence.objects.get(incident=incident)
    expired = client.post(reverse("alertmanager:silence-expire", args=[silence.pk]), headers=HTMX)

    assert created.status_code == 200 and expired.status_code == 200
    remote = AlertmanagerClient(alertmanager.url).get_silence(silence.silence_id)
    assert remote["status"]["state"] == "expired" and remote["createdBy"] == "oncall via Opsportal"
    assert not member.is_staff


@pytest.mark.alertmanager
def test_staff_may_silence_without_the_group(alertmanager: RunningAlertmanager, p1: Severity, staff) -> None:
    incident = incident_with_alerts(p1, alertmanager_url=alertmanager.url)

    silence = silence_create(incident=incident, duration=timedelta(hours=1), comment="fix", actor=staff)

    assert AlertmanagerClient(alertmanager.url).get_silence(silence.silence_id)["status"]["state"] == "active"
