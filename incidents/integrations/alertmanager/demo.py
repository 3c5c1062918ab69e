"""Demo data for `make run`: an integration whose alerts open the demo P1 through the same path a
real Alertmanager post takes, and a maintenance window planned for tomorrow night."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from incidents.registry import DemoContext, DemoResult

from .ingest import alertmanager_ingest
from .integration import integration_create
from .maintenance import maintenance_window_create
from .models import Integration
from .payload import fingerprint_for, parse_payload
from .receiver import webhook_url


def seed_demo(ctx: DemoContext) -> DemoResult:
    integration, token = integration_create(name="prometheus-demo", default_service=ctx.services["checkout"])
    _fire_demo_alerts(integration, ctx.now - timedelta(minutes=6))
    tomorrow = ctx.now + timedelta(days=1)
    maintenance_window_create(
        name="search-api index rebuild", actor=ctx.admin, matchers='service="search-api"',
        starts_at=tomorrow.replace(hour=2, minute=0, second=0, microsecond=0),
        ends_at=tomorrow.replace(hour=4, minute=0, second=0, microsecond=0),
        comment="Nightly reindex; search alerts are expected.",
    )
    return DemoResult(
        summary="an Alertmanager integration, a maintenance window",
        banner=[f"Alertmanager webhook: {webhook_url()}  (Authorization: Bearer {token})"],
    )


def _fire_demo_alerts(integration: Integration, starts_at: datetime) -> None:
    started = starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    common = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
    annotations = {"summary": "5xx rate above 5% on checkout",
                   "description": "checkout 5xx ratio is 7.2% for 10m",
                   "runbook_url": "https://runbooks.example/checkout"}
    body = {
        "version": "4", "status": "firing", "receiver": "opsportal", "externalURL": "http://127.0.0.1:9093",
        "groupKey": '{}:{alertname="HighErrorRate", service="checkout"}', "truncatedAlerts": 0,
        "groupLabels": {"alertname": "HighErrorRate", "service": "checkout"},
        "commonLabels": common, "commonAnnotations": annotations,
        "alerts": [
            {"status": "firing", "labels": {**common, "instance": f"web-{n}:8080"}, "annotations": annotations,
             "startsAt": started, "endsAt": "0001-01-01T00:00:00Z",
             "generatorURL": "http://prometheus.example:9090/graph?g0.expr=rate%28http_errors%5B5m%5D%29",
             "fingerprint": fingerprint_for({**common, "instance": f"web-{n}:8080"})}
            for n in (1, 2)
        ],
    }
    alertmanager_ingest(integration=integration, payload=parse_payload(body), body=json.dumps(body), received_at=starts_at)
