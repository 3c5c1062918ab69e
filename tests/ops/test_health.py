"""/health tells an operator (and a load balancer) what is wrong."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError

from opsportal.lib import heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_heartbeats() -> None:
    cache.delete_many([heartbeat.PREFIX + "worker", heartbeat.PREFIX + "scheduler"])


def test_it_is_healthy_when_every_part_answers(client):
    heartbeat.beat("worker")
    heartbeat.beat("scheduler")
    response = client.get("/health")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "healthy"
    assert set(body["checks"]) == {"database", "broker", "worker", "scheduler"}
    assert all(check["status"] == "healthy" for check in body["checks"].values())


def test_it_is_degraded_without_a_worker_heartbeat(client):
    heartbeat.beat("scheduler")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["worker"] == {"status": "unhealthy", "error": "no worker heartbeat seen yet"}


def test_it_reports_a_stale_scheduler(client, settings):
    heartbeat.beat("worker")
    cache.set(heartbeat.PREFIX + "scheduler", 0.0)  # last tick in 1970
    settings.HEARTBEAT_STALE_SECONDS = 60
    body = client.get("/health").json()
    assert body["status"] == "degraded"
    assert body["checks"]["scheduler"]["status"] == "unhealthy"
    assert body["checks"]["scheduler"]["last_seen_seconds_ago"] > 60


def test_it_is_unhealthy_when_the_broker_is_unreachable(client, monkeypatch):
    from opsportal.celery import app

    heartbeat.beat("worker")
    heartbeat.beat("scheduler")
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["broker"]["status"] == "unhealthy" and body["checks"]["broker"]["error"]


def test_the_container_check_fails_for_a_missing_worker(capsys):
    call_command("check_health", "--live")
    with pytest.raises(CommandError, match="unhealthy: worker"):
        call_command("check_health", "worker")
