"""A responder pages and searches an incident's alerts in a real browser, without a page reload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Alert, AlertStatus
from incidents.lifecycle import incident_open
from incidents.models import Source

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("severities"),
]


def test_it_pages_and_searches_the_alerts_without_reloading(signed_in_page, live_server, p1):
    integration, _ = integration_create(name="prod-am")
    incident = incident_open(title="Nodes down", severity=p1, source=Source.ALERTMANAGER)
    base = timezone.now() - timedelta(days=1)
    Alert.objects.bulk_create([
        Alert(integration=integration, incident=incident, fingerprint=f"fp{i}", status=AlertStatus.FIRING,
              labels={"alertname": "NodeDown", "instance": f"node-{i}"}, starts_at=base + timedelta(minutes=i),
              first_seen_at=base, last_seen_at=base)
        for i in range(120)
    ])
    page = signed_in_page
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads
    rows = page.get_by_test_id("alert-row")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("node-119")

    page.get_by_test_id("alerts-older").click()
    expect(page.get_by_test_id("alerts-page")).to_have_text("Page 2 of 3")
    expect(rows.first).to_contain_text("node-69")

    page.get_by_test_id("alerts-search").fill("instance=node-7")
    page.get_by_test_id("alerts-search").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("node-7")
    expect(page.get_by_test_id("alerts-range")).to_contain_text("1 matching")

    assert page.evaluate("window.loadedOnce") is True
    assert page.url == f"{live_server.url}/incidents/{incident.pk}/"
