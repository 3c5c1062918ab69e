"""Integration and maintenance pages, and the Alertmanager parts of the incident pages."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.integrations.alertmanager.models import (
    Alert,
    AlertStatus,
    Integration,
    MaintenanceWindow,
    WebhookDelivery,
)
from incidents.integrations.alertmanager.tokens import integration_create, integration_for_token
from incidents.lifecycle import incident_open
from incidents.models import Incident, Severity, Source

pytestmark = pytest.mark.django_db

WEBHOOK = "http://127.0.0.1:8000/hooks/alertmanager"  # settings.PUBLIC_URL default + the webhook path


@pytest.fixture
def staff(django_user_model):  # type: ignore[no-untyped-def]
    # No password: the tests sign in with force_login, and hashing one costs a second per test.
    return django_user_model.objects.create_user("admin", "admin@example.com", None, is_staff=True)


@pytest.fixture
def staff_client(staff) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def responder_client(responder) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(responder)
    return client


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
        body={},
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


# --- maintenance windows ----------------------------------------------------------------------------


def window_form(**overrides: str) -> dict[str, str]:
    start = timezone.now() + timedelta(days=2)
    data = {
        "name": "Postgres upgrade",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "integration": "",
        "matchers": "service=checkout\nalertname=~Disk.*",
        "comment": "CHG-1234",
    }
    data.update(overrides)
    return data


def test_it_schedules_a_maintenance_window_ahead(staff_client: Client) -> None:
    response = staff_client.post(reverse("alertmanager:maintenance"), window_form(), follow=True)

    window = MaintenanceWindow.objects.get()
    assert window.matchers == [
        {"name": "service", "value": "checkout", "is_regex": False, "is_equal": True},
        {"name": "alertname", "value": "Disk.*", "is_regex": True, "is_equal": True},
    ]
    assert window.integration is None and window.comment == "CHG-1234"
    assert response.context["overview"].upcoming == [window]
    assert "service=checkout, alertname=~Disk.*" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"ends_at": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")},
            "must end after it starts",
        ),
        ({"matchers": "service=checkout\nservice checkout"}, "Line 2 “service checkout” is not a matcher"),
        ({"matchers": "alertname=~Disk(["}, "is not a valid regular expression"),
        ({"matchers": "1service=checkout"}, "“1service” is not a label name"),
        ({"starts_at": "tomorrow"}, "Enter a valid date/time."),
    ],
)
def test_it_shows_maintenance_form_errors_inline(
    staff_client: Client, overrides: dict[str, str], message: str
) -> None:
    response = staff_client.post(reverse("alertmanager:maintenance"), window_form(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_it_ends_an_active_window_now_and_cancels_an_upcoming_one(staff_client: Client) -> None:
    now = timezone.now()
    active = MaintenanceWindow.objects.create(
        name="active", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    upcoming = MaintenanceWindow.objects.create(
        name="upcoming", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2)
    )

    staff_client.post(reverse("alertmanager:maintenance-end", args=[active.pk]))
    staff_client.post(reverse("alertmanager:maintenance-delete", args=[upcoming.pk]))

    active.refresh_from_db()
    assert active.ends_at <= timezone.now()
    assert not MaintenanceWindow.objects.filter(pk=upcoming.pk).exists()


def test_it_shows_the_maintenance_page_read_only_to_responders(responder_client: Client) -> None:
    response = responder_client.get(reverse("alertmanager:maintenance"))

    assert response.status_code == 200
    assert response.context["form"] is None
    assert "Schedule a window" not in response.content.decode()


def test_it_shows_active_and_next_day_windows_on_the_dashboard(responder_client: Client) -> None:
    now = timezone.now()
    MaintenanceWindow.objects.create(
        name="Kernel patching",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        matchers=[{"name": "service", "value": "checkout", "is_regex": False, "is_equal": True}],
    )
    MaintenanceWindow.objects.create(
        name="DB failover drill", starts_at=now + timedelta(hours=3), ends_at=now + timedelta(hours=4)
    )
    MaintenanceWindow.objects.create(
        name="Next week", starts_at=now + timedelta(days=7), ends_at=now + timedelta(days=7, hours=1)
    )

    page = responder_client.get(reverse("incidents:list")).content.decode()

    assert "Maintenance active:</strong> Kernel patching" in page
    assert "Maintenance scheduled:</strong> DB failover drill" in page
    assert "service=checkout" in page
    assert timezone.localtime(now + timedelta(hours=4)).strftime("%H:%M") in page  # the drill's end
    assert "Next week" not in page
    assert f'href="{reverse("alertmanager:list")}"' in page  # the Integrations link in the top bar


# --- incident page -----------------------------------------------------------------------------------


def add_alert(integration: Integration, incident: Incident, labels: dict[str, str], **fields: Any) -> Alert:
    now = timezone.now()
    values = {
        "integration": integration,
        "incident": incident,
        "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16],
        "status": AlertStatus.FIRING,
        "labels": labels,
        "annotations": {},
        "starts_at": now,
        "first_seen_at": now,
        "last_seen_at": now,
        **fields,
    }
    return Alert.objects.create(**values)


def test_it_shows_the_incidents_alerts_with_labels_annotations_and_source_links(
    responder_client: Client, p1: Severity
) -> None:
    integration, _ = integration_create(name="prod-am")
    incident = incident_open(title="5xx rate above 5%", severity=p1, source=Source.ALERTMANAGER)
    add_alert(
        integration,
        incident,
        {"alertname": "HighErrorRate", "instance": "web-1:8080"},
        annotations={"summary": "5xx rate above 5%", "description": "checkout 5xx ratio is 7.2%"},
        generator_url="http://prometheus.example:9090/graph?g0.expr=x",
        times_received=4,
    )
    add_alert(
        integration,
        incident,
        {"alertname": "HighErrorRate", "instance": "web-2:8080"},
        status=AlertStatus.RESOLVED,
        ends_at=timezone.now(),
        generator_url="javascript:alert(1)",
    )

    page = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert '<span class="chip-k">instance</span><span class="chip-v">web-2:8080</span>' in page
    assert "checkout 5xx ratio is 7.2%" in page
    assert 'href="http://prometheus.example:9090/graph?g0.expr=x"' in page
    assert "javascript:alert" not in page
    assert "4×" in page and "Resolved" in page
    assert "left out" not in page


def test_it_refreshes_the_alerts_table_so_alerts_joining_later_appear(
    responder_client: Client, p1: Severity
) -> None:
    integration, _ = integration_create(name="prod-am")
    incident = incident_open(title="Disk full", severity=p1, source=Source.ALERTMANAGER)
    add_alert(integration, incident, {"alertname": "DiskFull", "instance": "db-1"})
    url = reverse("alertmanager:incident-alerts", args=[incident.pk])
    assert (
        f'hx-get="{url}"'
        in responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    )
    add_alert(integration, incident, {"alertname": "DiskFull", "instance": "db-2"})

    fragment = responder_client.get(url, HTTP_HX_REQUEST="true").content.decode()

    assert fragment.lstrip().startswith('<section id="alerts"')
    assert "2 from Alertmanager" in fragment and '<span class="chip-v">db-2</span>' in fragment


def test_it_warns_when_alertmanager_truncated_the_latest_delivery(
    responder_client: Client, p1: Severity
) -> None:
    integration, _ = integration_create(name="prod-am")
    incident = incident_open(title="Disk full", severity=p1, source=Source.ALERTMANAGER)
    add_alert(integration, incident, {"alertname": "DiskFull", "instance": "db-1"})
    WebhookDelivery.objects.create(
        integration=integration,
        incident=incident,
        received_at=timezone.now(),
        status="firing",
        alert_count=2,
        truncated_alerts=1,
        body={},
    )

    page = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert "Alertmanager left out 1 alert from its latest notification" in page


def test_it_shows_nothing_extra_for_an_incident_without_alerts(
    responder_client: Client, p1: Severity
) -> None:
    incident = incident_open(title="Declared by hand", severity=p1, source=Source.WEB)

    page = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert 'id="alerts"' not in page and 'id="silences"' not in page
