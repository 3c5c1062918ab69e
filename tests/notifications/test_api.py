"""The notification API: deliveries of an incident, templates (list, update, preview), routes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from incidents import lifecycle
from incidents.models import Severity, Source
from incidents.notifications.models import Delivery

from .conftest import RecordingSender

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(django_user_model: type[User]) -> APIClient:
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("lead", is_staff=True))
    return client


def test_it_lists_an_incidents_deliveries(staff_api: APIClient, p1: Severity, recorder: RecordingSender) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    rows = staff_api.get(f"/api/v1/incidents/{incident.pk}/deliveries/").json()
    assert [(r["kind"], r["channel"], r["status"]) for r in rows] == [("opened", "recorder", "pending")]
    assert "INCIDENT ALERT" in rows[0]["text"]
    assert staff_api.get("/api/v1/incidents/999/deliveries/").status_code == 404
    conflict = staff_api.post(f"/api/v1/deliveries/{rows[0]['id']}/retry/")
    assert conflict.status_code == 409 and "only failed or dead" in conflict.json()["error"]["message"]


def test_it_updates_previews_and_resets_templates(staff_api: APIClient, p1: Severity,
                                                  recorder: RecordingSender) -> None:
    listed = staff_api.get("/api/v1/notification-templates/").json()
    assert {"channel": "recorder", "event": "opened"}.items() <= listed[0].items()
    url = "/api/v1/notification-templates/recorder/opened/"
    bad = staff_api.put(url, {"body": "{{ incident.nope }}"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "body"
    assert staff_api.put(url, {"body": 7}, format="json").status_code == 400
    good = staff_api.put(url, {"body": "{{ incident.title }}!"}, format="json")
    assert good.status_code == 200 and good.json()["is_default"] is False
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    assert Delivery.objects.get().payload["text"] == "Checkout down!"
    preview = staff_api.post(url + "preview/", {"body": "{{ incident.severity }}", "incident": incident.pk},
                             format="json")
    assert preview.json() == {"subject": "", "body": "P1"}
    assert staff_api.delete(url).json()["is_default"] is True
    assert staff_api.get("/api/v1/notification-templates/nope/opened/").status_code == 404


def test_it_creates_and_deletes_routes(staff_api: APIClient, responder: User, recorder: RecordingSender) -> None:
    created = staff_api.post("/api/v1/notification-routes/",
                             {"channel": "recorder", "target": "#payments", "severities": ["P1", "P2"]},
                             format="json")
    assert created.status_code == 201 and created.json()["severities"] == ["P1", "P2"]
    unknown = staff_api.post("/api/v1/notification-routes/", {"channel": "telegram", "target": "x"}, format="json")
    assert unknown.status_code == 400 and "Unknown channel" in unknown.json()["error"]["message"]
    responder_api = APIClient()
    responder_api.force_authenticate(responder)
    assert responder_api.delete(f"/api/v1/notification-routes/{created.json()['id']}/").status_code == 403
    assert staff_api.delete(f"/api/v1/notification-routes/{created.json()['id']}/").status_code == 204
