"""Test data for the webhook tests: the captured Alertmanager posts, payload builders and a poster.

Not a conftest (another engineer's tests share this folder): test modules import what they use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.utils import timezone

from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Alert, AlertStatus, Integration
from incidents.lifecycle import incident_open
from incidents.models import Incident, Severity, Source

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "alertmanager"
URL = "/hooks/alertmanager"


def captured(name: str) -> list[dict[str, Any]]:
    """The posts of one capture file (``am_captured_<name>.jsonl``): path, headers and body each."""
    lines = (FIXTURES / f"am_captured_{name}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def captured_bodies(name: str) -> list[bytes]:
    """Bodies as Alertmanager's Go encoder wrote them (compact), so a repeat is byte-identical."""
    return [json.dumps(post["body"], separators=(",", ":")).encode() for post in captured(name)]


@dataclass
class Hook:
    """An integration with its token and a client that posts to the webhook as Alertmanager does."""

    integration: Integration
    token: str
    client: Client

    def post(
        self, body: Any, *, token: str | bool | None = None, content_type: str = "application/json", **extra: Any
    ) -> Response:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers: dict[str, Any] = {"HTTP_USER_AGENT": "Alertmanager/0.25.0"}
        if token is not False:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token if token is None else token}"
        headers.update(extra)
        return self.client.post(URL, data=data, content_type=content_type, **headers)

    def refresh(self) -> Integration:
        self.integration.refresh_from_db()
        return self.integration


def make_hook(name: str = "prod-am", **fields: Any) -> Hook:
    integration, token = integration_create(name=name, **fields)
    return Hook(integration=integration, token=token, client=Client())


@pytest.fixture
def hook(db: None) -> Hook:
    return make_hook()


def alert(
    instance: str,
    *,
    status: str = "firing",
    alertname: str = "HighErrorRate",
    severity: str = "critical",
    starts_at: str = "2026-11-23T09:03:06Z",
    ends_at: str = "0001-01-01T00:00:00Z",
    fingerprint: str | None = None,
    **labels: str,
) -> dict[str, Any]:
    all_labels = {"alertname": alertname, "instance": instance, "service": "checkout", "severity": severity, **labels}
    return {
        "status": status,
        "labels": all_labels,
        "annotations": {"summary": f"{alertname} on {instance}", "description": f"{instance} is unwell"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": fingerprint or hashlib.sha256(f"{alertname}/{instance}".encode()).hexdigest()[:16],
    }


def payload(
    alerts: list[dict[str, Any]],
    *,
    group_key: str = '{}:{alertname="HighErrorRate", service="checkout"}',
    truncated: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    labels = [a["labels"] for a in alerts if isinstance(a.get("labels"), dict)]
    common = {k: v for k, v in labels[0].items() if all(m.get(k) == v for m in labels)} if labels else {}
    body = {
        "receiver": "opsportal",
        "status": "firing" if any(a.get("status") == "firing" for a in alerts) else "resolved",
        "alerts": alerts,
        "groupLabels": {k: common[k] for k in ("alertname", "service") if k in common},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": truncated,
    }
    body.update(overrides)
    return body


def incident_with_alerts(p1: Severity, *, alertmanager_url: str) -> Incident:
    """An incident with two firing alerts of an integration whose Alertmanager is ``alertmanager_url``."""
    integration, _ = integration_create(name="prod-am", alertmanager_url=alertmanager_url)
    incident = incident_open(title="5xx rate above 5%", severity=p1, source=Source.ALERTMANAGER)
    now = timezone.now()
    for i, instance in enumerate(("web-1:8080", "web-2:8080")):
        Alert.objects.create(
            integration=integration,
            incident=incident,
            fingerprint=f"f7ca8b2ae37f4b5{i}",
            status=AlertStatus.FIRING,
            labels={"alertname": "HighErrorRate", "service": "checkout", "instance": instance},
            starts_at=now,
            first_seen_at=now,
            last_seen_at=now,
        )
    return incident
