"""Prometheus counters for ingestion: webhooks by outcome, alerts, incidents opened/resolved."""

from __future__ import annotations

import pytest
from django.conf import settings
from prometheus_client import REGISTRY

from .webhook_support import alert, make_hook, payload


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db(transaction=True)  # the counters move when the transaction commits
def test_it_counts_webhooks_alerts_and_incidents(severities) -> None:
    hook = make_hook("metrics-am")
    name = hook.integration.name
    before = {
        "accepted": value("opsportal_alertmanager_webhooks_total", integration=name, outcome="accepted"),
        "invalid": value("opsportal_alertmanager_webhooks_total", integration=name, outcome="invalid"),
        "unauthorized": value("opsportal_alertmanager_webhooks_total", integration="-", outcome="unauthorized"),
        "firing": value("opsportal_alertmanager_alerts_total", integration=name, status="firing"),
        "opened": value("opsportal_alertmanager_incidents_total", integration=name, action="opened"),
        "resolved": value("opsportal_alertmanager_incidents_total", integration=name, action="auto_resolved"),
    }

    hook.post(payload([alert("web-1"), alert("web-2")]))
    hook.post(payload([alert("web-1", status="resolved", ends_at="2026-11-23T10:00:00Z"),
                       alert("web-2", status="resolved", ends_at="2026-11-23T10:00:00Z")]))
    hook.post(b"{}")
    hook.post(payload([alert("web-1")]), token="wrong")

    assert value("opsportal_alertmanager_webhooks_total", integration=name, outcome="accepted") == before["accepted"] + 2
    assert value("opsportal_alertmanager_webhooks_total", integration=name, outcome="invalid") == before["invalid"] + 1
    assert value("opsportal_alertmanager_webhooks_total", integration="-", outcome="unauthorized") == (
        before["unauthorized"] + 1
    )
    assert value("opsportal_alertmanager_alerts_total", integration=name, status="firing") == before["firing"] + 2
    assert value("opsportal_alertmanager_incidents_total", integration=name, action="opened") == before["opened"] + 1
    assert value("opsportal_alertmanager_incidents_total", integration=name, action="auto_resolved") == (
        before["resolved"] + 1
    )


def test_the_scheduler_runs_the_sweep_and_beat_the_pruning() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    sweeps = {path for path, _ in settings.SCHEDULER_SWEEPS.values()}

    # The inactivity sweep is a database timer: the scheduler runs it in-process, not through the broker.
    assert "incidents.integrations.alertmanager.inactivity.incidents_resolve_inactive" in sweeps
    assert "incidents.integrations.alertmanager.tasks.alertmanager_prune_deliveries" in tasks
