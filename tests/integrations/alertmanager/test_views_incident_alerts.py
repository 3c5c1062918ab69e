"""The Alertmanager parts of the incident page: alerts table, truncation warning."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import (
    Alert,
    AlertStatus,
    Integration,
    WebhookDelivery,
)
from incidents.lifecycle import incident_open
from incidents.models import Incident, Severity, Source

pytestmark = pytest.mark.django_db

WEBHOOK = "http://127.0.0.1:8001/hooks/alertmanager"  # settings.PUBLIC_HOOKS_URL default (the hooks pool) + the path

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
    alert = Alert.objects.create(**values)
    # What the webhook post that carried it leaves too: a delivery naming the incident.
    WebhookDelivery.objects.create(integration=integration, incident=incident, received_at=now, body="{}")
    return alert


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
        f'hx-get="{url}?since='
        in responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    )
    add_alert(integration, incident, {"alertname": "DiskFull", "instance": "db-2"})

    fragment = responder_client.get(url, HTTP_HX_REQUEST="true").content.decode()

    assert fragment.lstrip().startswith('<div id="alerts-body"')
    assert "All <strong>2</strong>" in fragment and '<span class="chip-v">db-2</span>' in fragment


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
        body="{}",
    )

    page = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert "Alertmanager left out 1 alert from its latest notification" in page


def test_it_shows_nothing_extra_for_an_incident_without_alerts(
    responder_client: Client, p1: Severity
) -> None:
    incident = incident_open(title="Declared by hand", severity=p1, source=Source.WEB)

    page = responder_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert 'id="alerts"' not in page and 'id="silences"' not in page
