"""The silences panel on the incident page (htmx), against the real Alertmanager where it matters;
and the receiver snippet, checked by Alertmanager's own amtool."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from incidents.integrations.alertmanager.client import AlertmanagerClient
from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Silence
from incidents.models import EventKind, Severity

from .am_process import RunningAlertmanager, free_port, require_binary, run_alertmanager
from .webhook_support import incident_with_alerts

# Alertmanager listens on 127.0.0.1 here; the responder is in the Responders group.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback", "responder_may_silence")]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[RunningAlertmanager]:
    with run_alertmanager(tmp_path / "am") as am:
        yield am


@pytest.mark.alertmanager
def test_it_creates_and_expires_a_silence_from_the_incident_page(
    alertmanager: RunningAlertmanager, responder_client: Client, p1: Severity
) -> None:
    incident = incident_with_alerts(p1, alertmanager_url=alertmanager.url)

    created = responder_client.post(
        reverse("alertmanager:silence-create", args=[incident.pk]),
        {"duration": "4h", "comment": "fix is deploying"},
        headers=HTMX,
    )

    assert created.status_code == 200
    panel = created.content.decode()
    assert panel.lstrip().startswith('<section id="silences"')  # the panel alone, for htmx to swap
    assert "am-state-active" in panel and "fix is deploying" in panel
    assert "alertname=HighErrorRate, service=checkout" in panel
    silence = Silence.objects.get(incident=incident)
    api = AlertmanagerClient(alertmanager.url)
    assert api.get_silence(silence.silence_id)["status"]["state"] == "active"

    expired = responder_client.post(reverse("alertmanager:silence-expire", args=[silence.pk]), headers=HTMX)

    assert expired.status_code == 200
    assert "am-state-expired" in expired.content.decode()
    assert api.get_silence(silence.silence_id)["status"]["state"] == "expired"
    assert incident.events.filter(kind=EventKind.SILENCE).count() == 2


@pytest.mark.alertmanager
def test_it_shows_a_silence_expired_in_alertmanager_after_a_refresh(
    alertmanager: RunningAlertmanager, responder_client: Client, p1: Severity
) -> None:
    incident = incident_with_alerts(p1, alertmanager_url=alertmanager.url)
    responder_client.post(
        reverse("alertmanager:silence-create", args=[incident.pk]),
        {"duration": "1h", "comment": "noisy"},
        headers=HTMX,
    )
    silence = Silence.objects.get(incident=incident)
    AlertmanagerClient(alertmanager.url).expire_silence(silence.silence_id)

    response = responder_client.post(reverse("alertmanager:silence-refresh", args=[incident.pk]), headers=HTMX)

    assert "am-state-expired" in response.content.decode()
    assert Silence.objects.get(pk=silence.pk).state == Silence.State.EXPIRED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"duration": "1h", "comment": ""}, "A comment is required"),
        ({"duration": "custom", "custom_duration": "", "comment": "x"}, "Type a duration such as 90m or 2d."),
        ({"duration": "custom", "custom_duration": "soon", "comment": "x"}, "“soon” is not a duration"),
        ({"duration": "1y", "comment": "x"}, "Select a valid choice."),
    ],
)
def test_it_shows_silence_form_errors_inline(
    responder_client: Client, p1: Severity, data: dict[str, str], message: str
) -> None:
    incident = incident_with_alerts(p1, alertmanager_url="http://127.0.0.1:9")

    response = responder_client.post(reverse("alertmanager:silence-create", args=[incident.pk]), data, headers=HTMX)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Silence.objects.exists()


def test_it_says_inline_that_alertmanager_is_unreachable(responder_client: Client, p1: Severity) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    incident = incident_with_alerts(p1, alertmanager_url=url)

    response = responder_client.post(
        reverse("alertmanager:silence-create", args=[incident.pk]),
        {"duration": "1h", "comment": "noisy"},
        headers=HTMX,
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Alertmanager is unreachable" in page and "connection refused" in page
    assert 'value="noisy"' in page  # what the user typed is kept


def test_it_redirects_a_plain_form_post_back_to_the_incident_with_the_error(
    responder_client: Client, p1: Severity
) -> None:
    incident = incident_with_alerts(p1, alertmanager_url=f"http://127.0.0.1:{free_port()}")

    response = responder_client.post(
        reverse("alertmanager:silence-create", args=[incident.pk]),
        {"duration": "1h", "comment": "noisy"},
        follow=True,
    )

    assert response.redirect_chain[-1][0].startswith(reverse("incidents:detail", args=[incident.pk]))
    assert "Alertmanager is unreachable" in response.content.decode()


def test_it_explains_where_to_set_the_alertmanager_url(responder_client: Client, p1: Severity) -> None:
    incident = incident_with_alerts(p1, alertmanager_url="")

    page = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert "Silences need the Alertmanager API URL of integration “prod-am”" in page
    assert reverse("alertmanager:silence-create", args=[incident.pk]) not in page


def test_it_offers_the_silence_form_on_the_incident_page(responder_client: Client, p1: Severity) -> None:
    incident = incident_with_alerts(p1, alertmanager_url="http://alertmanager.example:9093")

    page = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert f'hx-post="{reverse("alertmanager:silence-create", args=[incident.pk])}"' in page
    assert '<option value="4h">4 hours</option>' in page
    panel = page[page.index('<section id="silences"') :]
    assert 'name="csrfmiddlewaretoken" value="' in panel.split("</form>")[0]  # works without htmx too


@pytest.mark.alertmanager
def test_it_hands_out_a_receiver_snippet_that_amtool_accepts(tmp_path: Path, p1: Severity) -> None:
    require_binary()
    from incidents.integrations.alertmanager.receiver import receiver_name, receiver_snippet

    integration, token = integration_create(name="Prod AM (eu-west)")
    config = f"route:\n  receiver: {receiver_name(integration)}\n" + receiver_snippet(integration, token)
    path = tmp_path / "alertmanager.yml"
    path.write_text(config)

    result = subprocess.run(
        ["/usr/bin/amtool", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
