"""Integration pages: list, create, token shown once, rotate, edit, disable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import (
    Integration,
    MaintenanceWindow,
    WebhookDelivery,
)
from incidents.integrations.alertmanager.tokens import integration_for_token
from incidents.lifecycle import incident_open
from incidents.models import Severity, Source

pytestmark = pytest.mark.django_db

WEBHOOK = "http://127.0.0.1:8001/hooks/alertmanager"  # settings.PUBLIC_HOOKS_URL default (the hooks pool) + the path

def create_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "prod-am",
        "default_service": "",
        "grouping": "group_key",
        "group_by_labels": "",
        "severity_label": "severity",
        "severity_mapping": "critical=P1\nwarning=P3",
        "default_severity": "",
        "auto_resolve": "on",
        "reopen_window": "1h",
        "inactivity_timeout": "",
        "alertmanager_url": "http://alertmanager.monitoring.svc:9093",
    }
    data.update(overrides)
    return data


# --- integrations ---------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    for name in ("alertmanager:list", "alertmanager:maintenance"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_lists_integrations_read_only_for_responders(responder_client: Client) -> None:
    integration_create(name="prod-am")

    response = responder_client.get(reverse("alertmanager:list"))

    assert response.status_code == 200
    assert "prod-am" in response.content.decode()
    assert reverse("alertmanager:integration-create") not in response.content.decode()


def test_it_refuses_changes_from_responders_who_are_not_staff(responder_client: Client) -> None:
    integration, _ = integration_create(name="prod-am")
    window = MaintenanceWindow.objects.create(
        name="db", starts_at=timezone.now() + timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=2)
    )
    hash_before = integration.token_hash

    assert responder_client.get(reverse("alertmanager:integration-create")).status_code == 403
    assert (
        responder_client.post(reverse("alertmanager:integration-create"), create_form(name="x")).status_code
        == 403
    )
    assert (
        responder_client.post(reverse("alertmanager:integration-rotate", args=[integration.pk])).status_code
        == 403
    )
    assert responder_client.post(reverse("alertmanager:maintenance"), {"name": "x"}).status_code == 403
    assert responder_client.post(reverse("alertmanager:maintenance-end", args=[window.pk])).status_code == 403
    assert (
        responder_client.post(reverse("alertmanager:maintenance-delete", args=[window.pk])).status_code == 403
    )

    assert Integration.objects.count() == 1
    assert Integration.objects.get().token_hash == hash_before
    assert MaintenanceWindow.objects.filter(pk=window.pk).exists()


def test_it_creates_an_integration_and_shows_its_token_once(staff_client: Client) -> None:
    response = staff_client.post(reverse("alertmanager:integration-create"), create_form())

    integration = Integration.objects.get(name="prod-am")
    assert response.status_code == 302
    assert response["Location"] == reverse("alertmanager:integration-detail", args=[integration.pk])
    assert integration.severity_mapping == {"critical": "P1", "warning": "P3"}
    assert integration.alertmanager_url == "http://alertmanager.monitoring.svc:9093"
    assert integration.reopen_window == timedelta(hours=1)

    first = staff_client.get(response["Location"])
    page = first.content.decode()
    token = first.context["token"]
    assert integration_for_token(token) == integration
    assert token in page
    assert first["Cache-Control"] == "no-store"
    snippet = first.context["snippet"]
    assert f"url: '{WEBHOOK}'" in snippet
    assert f"credentials: '{token}'" in snippet
    assert "send_resolved: true" in snippet and "max_alerts: 0" in snippet and "type: Bearer" in snippet

    second = staff_client.get(response["Location"]).content.decode()
    assert token not in second
    assert "&lt;integration token&gt;" in second and "Rotate the token" in second


def test_it_rotates_the_token_and_the_old_one_stops_working(staff_client: Client) -> None:
    integration, old_token = integration_create(name="prod-am")

    response = staff_client.post(
        reverse("alertmanager:integration-rotate", args=[integration.pk]), follow=True
    )

    new_token = response.context["token"]
    assert new_token and new_token != old_token
    assert new_token in response.context["snippet"]
    assert integration_for_token(old_token) is None
    assert integration_for_token(new_token) == integration
    assert "old token no longer works" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"grouping": "labels", "group_by_labels": ""}, "Name at least one label to group by"),
        ({"grouping": "labels", "group_by_labels": "alertname, 1bad"}, "“1bad” is not a label name"),
        ({"severity_mapping": "critical=P9"}, "unknown severity “P9”"),
        ({"severity_mapping": "critical"}, "write label value=severity"),
        ({"reopen_window": "soon"}, "“soon” is not a duration"),
        ({"alertmanager_url": "not a url"}, "Enter an http(s) URL such as http://alertmanager:9093"),
        ({"alertmanager_url": "ftp://alertmanager:9093"}, "Enter an http(s) URL"),
    ],
)
def test_it_shows_integration_form_errors_inline(
    staff_client: Client, overrides: dict[str, str], message: str
) -> None:
    response = staff_client.post(reverse("alertmanager:integration-create"), create_form(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Integration.objects.exists()


def test_it_accepts_a_compose_style_alertmanager_host(staff_client: Client) -> None:
    response = staff_client.post(
        reverse("alertmanager:integration-create"), create_form(alertmanager_url="http://alertmanager:9093/")
    )

    assert response.status_code == 302
    assert Integration.objects.get().alertmanager_url == "http://alertmanager:9093"


def test_it_says_when_the_integration_name_is_taken(staff_client: Client) -> None:
    integration_create(name="prod-am")

    response = staff_client.post(reverse("alertmanager:integration-create"), create_form())

    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_it_shows_recent_deliveries_with_their_incident(responder_client: Client, p1: Severity) -> None:
    integration, _ = integration_create(name="prod-am")
    incident = incident_open(title="Disk full", severity=p1, source=Source.ALERTMANAGER)
    WebhookDelivery.objects.create(
        integration=integration,
        incident=incident,
        received_at=timezone.now(),
        group_key='{}:{alertname="DiskFull"}',
        status="firing",
        alert_count=3,
        truncated_alerts=2,
        body="{}",
    )

    response = responder_client.get(reverse("alertmanager:integration-detail", args=[integration.pk]))

    page = response.content.decode()
    assert reverse("incidents:detail", args=[incident.pk]) in page
    assert "2 cut" in page and "firing" in page
    assert "Rotate token" not in page  # read-only for responders
    assert response.context["token"] is None


def test_it_edits_an_integrations_settings(staff_client: Client) -> None:
    integration, token = integration_create(name="prod-am")
    form = staff_client.get(reverse("alertmanager:integration-edit", args=[integration.pk]))
    assert form.status_code == 200 and 'value="prod-am"' in form.content.decode()

    response = staff_client.post(
        reverse("alertmanager:integration-edit", args=[integration.pk]),
        create_form(
            name="prod-eu",
            grouping="labels",
            group_by_labels="alertname, cluster",
            inactivity_timeout="2h",
            auto_resolve="",
            alertmanager_url="http://10.0.0.5:9093",
        ),
    )

    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.name == "prod-eu"
    assert integration.group_by_labels == ["alertname", "cluster"]
    assert integration.inactivity_timeout == timedelta(hours=2)
    assert integration.auto_resolve is False
    assert integration.alertmanager_url == "http://10.0.0.5:9093"
    assert integration_for_token(token) == integration  # editing never touches the token


def test_it_shows_edit_errors_inline(staff_client: Client) -> None:
    integration_create(name="taken")
    integration, _ = integration_create(name="prod-am")

    response = staff_client.post(
        reverse("alertmanager:integration-edit", args=[integration.pk]), create_form(name="taken")
    )

    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    integration.refresh_from_db()
    assert integration.name == "prod-am"


def test_it_disables_an_integration_so_its_webhooks_are_refused(staff_client: Client, client: Client) -> None:
    integration, token = integration_create(name="prod-am")

    page = staff_client.post(
        reverse("alertmanager:integration-toggle", args=[integration.pk]), {"enabled": "0"}, follow=True
    ).content.decode()

    assert 'data-testid="disabled"' in page and "webhooks now get 403" in page
    webhook = client.post(
        "/hooks/alertmanager",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert webhook.status_code == 403

    staff_client.post(reverse("alertmanager:integration-toggle", args=[integration.pk]), {"enabled": "1"})
    integration.refresh_from_db()
    assert integration.enabled


def test_it_refuses_editing_and_disabling_by_responders(responder_client: Client) -> None:
    integration, _ = integration_create(name="prod-am")

    assert (
        responder_client.get(reverse("alertmanager:integration-edit", args=[integration.pk])).status_code
        == 403
    )
    assert (
        responder_client.post(
            reverse("alertmanager:integration-toggle", args=[integration.pk]), {"enabled": "0"}
        ).status_code
        == 403
    )
    integration.refresh_from_db()
    assert integration.enabled


def test_it_answers_404_for_an_unknown_integration(responder_client: Client) -> None:
    assert responder_client.get(reverse("alertmanager:integration-detail", args=[999])).status_code == 404
