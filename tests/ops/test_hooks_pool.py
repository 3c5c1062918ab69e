"""The hooks pool (bin/serve hooks) runs a short middleware list of its own: every machine endpoint
still answers there as it does on the web pool, and a page asked of it says where pages are."""

from __future__ import annotations

import pytest
from django.test import Client

from incidents.models import Incident
from opsportal.lib import heartbeat
from tests.integrations.alertmanager.webhook_support import alert, make_hook, payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hooks_pool")]


def test_it_takes_alertmanager_webhooks() -> None:
    hook = make_hook()
    response = hook.post(payload([alert("web-1")]), HTTP_X_REQUEST_ID="req-123")

    assert response.status_code == 200 and response.json()["action"] == "opened"
    assert response["X-Request-ID"] == "req-123"
    assert Incident.objects.get().pk == response.json()["incident"]
    assert "Set-Cookie" not in response and not response.cookies
    assert hook.post(payload([alert("web-1")]), token="wrong").status_code == 401


def test_it_answers_health_and_metrics(client: Client) -> None:
    heartbeat.beat("worker")
    heartbeat.beat("scheduler")

    health = client.get("/health")
    metrics = client.get("/metrics")

    assert health.status_code == 200 and health.json()["status"] == "healthy"
    assert metrics.status_code == 200 and b"opsportal_http_requests_total" in metrics.content
    assert Client(REMOTE_ADDR="203.0.113.5").get("/metrics").status_code == 403


def test_a_page_asked_of_it_says_where_pages_are(client: Client, settings) -> None:
    response = client.get("/incidents/")

    assert response.status_code == 404
    assert f"{settings.PUBLIC_URL}/incidents/" in response.json()["error"]["message"]
