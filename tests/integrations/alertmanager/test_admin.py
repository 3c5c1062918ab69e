"""The admin shows a new or rotated token once, and never on later pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Integration, MaintenanceWindow
from incidents.integrations.alertmanager.tokens import integration_for_token

from .webhook_support import alert, make_hook, payload

pytestmark = pytest.mark.django_db


def integration_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "prod-am", "kind": "alertmanager", "enabled": "on", "grouping": "group_key",
        "group_by_labels": "[]", "severity_label": "severity", "severity_mapping": "{}",
        "title_template": "{{ commonLabels.alertname }}", "description_template": "", "auto_resolve": "on",
        "reopen_window": "01:00:00", "inactivity_timeout": "", "alertmanager_url": "",
    }
    data.update(overrides)
    return data


def shown_token(html: str) -> str:
    match = re.search(r'<code id="token-\d+">([^<]+)</code>', html)
    assert match, html[:2000]
    return match.group(1)


def test_it_shows_a_new_token_once_on_creation(admin_client: Client) -> None:
    response = admin_client.post("/admin/alertmanager/integration/add/", integration_form())

    assert response.status_code == 200
    token = shown_token(response.content.decode())
    integration = Integration.objects.get(name="prod-am")
    assert integration_for_token(token) == integration
    assert "no-store" in response["Cache-Control"]
    assert "/hooks/alertmanager" in response.content.decode()
    change_page = admin_client.get(f"/admin/alertmanager/integration/{integration.pk}/change/")
    assert change_page.status_code == 200
    assert token not in change_page.content.decode()
    assert integration.token_prefix in change_page.content.decode()


def test_it_refuses_an_invalid_template_in_the_admin(admin_client: Client) -> None:
    response = admin_client.post("/admin/alertmanager/integration/add/", integration_form(title_template="{{ x "))

    assert response.status_code == 200
    assert "title_template" in response.content.decode()
    assert not Integration.objects.exists()


def test_it_rotates_tokens_from_the_list(admin_client: Client) -> None:
    integration, old = integration_create(name="prod-am")

    response = admin_client.post("/admin/alertmanager/integration/", {
        "action": "rotate_tokens", "_selected_action": [integration.pk],
    })

    new = shown_token(response.content.decode())
    assert integration_for_token(new) == integration
    assert integration_for_token(old) is None


def test_it_lists_alerts_and_deliveries_read_only(admin_client: Client) -> None:
    hook = make_hook()
    hook.post(payload([alert("web-1")]))

    for path in ("/admin/alertmanager/alert/", "/admin/alertmanager/webhookdelivery/",
                 "/admin/alertmanager/silence/", "/admin/alertmanager/maintenancewindow/"):
        assert admin_client.get(path).status_code == 200, path
    delivery = hook.integration.deliveries.get()
    detail = admin_client.get(f"/admin/alertmanager/webhookdelivery/{delivery.pk}/change/")
    assert "HighErrorRate" in detail.content.decode()
    assert admin_client.get("/admin/alertmanager/alert/add/").status_code == 403


def test_it_validates_maintenance_matchers_in_the_admin(admin_client: Client) -> None:
    response = admin_client.post("/admin/alertmanager/maintenancewindow/add/", {
        "name": "upgrade", "starts_at_0": "2030-01-01", "starts_at_1": "10:00", "ends_at_0": "2030-01-01",
        "ends_at_1": "12:00", "matchers": '[{"name": "instance", "value": "web-(", "is_regex": true}]', "comment": "",
    })

    assert response.status_code == 200
    assert "not a valid regular expression" in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_it_refuses_a_maintenance_window_that_already_ended_like_the_page_does(admin_client: Client) -> None:
    response = admin_client.post("/admin/alertmanager/maintenancewindow/add/", {
        "name": "yesterday", "starts_at_0": "2020-01-01", "starts_at_1": "01:00:00",
        "ends_at_0": "2020-01-01", "ends_at_1": "02:00:00", "matchers": "[]", "comment": "",
    })
    assert response.status_code == 200
    assert "The window ends in the past" in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_it_edits_an_integration_through_the_settings_service(admin_client: Client) -> None:
    integration, _ = integration_create(name="prod-am")
    response = admin_client.post(
        f"/admin/alertmanager/integration/{integration.pk}/change/",
        integration_form(name="prod-am", enabled="", grouping="labels", group_by_labels="[]"),
    )
    assert response.status_code == 200  # the service's rule: grouping by labels needs label names
    assert "Grouping by labels needs a list of label names" in response.content.decode()
    response = admin_client.post(
        f"/admin/alertmanager/integration/{integration.pk}/change/",
        integration_form(name="prod-am", enabled="", severity_mapping='{"critical": "P1"}'),
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.enabled is False and integration.severity_mapping == {"critical": "P1"}
