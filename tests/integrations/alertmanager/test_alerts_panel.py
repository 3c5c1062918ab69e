"""The incident page's alerts panel stays bounded however many alerts the incident has: counts by
state, the newest 50, search by label in the database, paging, and polls that answer 204 while
nothing changed."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Alert, AlertStatus, Integration, WebhookDelivery
from incidents.lifecycle import incident_open
from incidents.models import Incident, Severity, Source

pytestmark = pytest.mark.django_db


def delivered(integration: Integration, incident: Incident) -> None:
    """What the webhook post that carried the alerts leaves: a delivery naming the incident (the
    alerts panel's version moves with it)."""
    WebhookDelivery.objects.create(integration=integration, incident=incident, received_at=timezone.now(), body="{}")


def add_alerts(integration: Integration, incident: Incident, count: int, *, resolved_every: int = 0,
               start: int = 0) -> None:
    """``count`` alerts, alert i started i minutes after the first (so higher i is newer); every
    ``resolved_every``-th one resolved."""
    base = timezone.now() - timedelta(days=1)
    Alert.objects.bulk_create([
        Alert(
            integration=integration, incident=incident, fingerprint=f"fp{i:06d}",
            status=AlertStatus.RESOLVED if resolved_every and i % resolved_every == 0 else AlertStatus.FIRING,
            labels={"alertname": "NodeDown", "instance": f"node-{i}:9100",
                    "service": "checkout" if i == 137 else "search"},
            annotations={"summary": f"node-{i} is down"},
            starts_at=base + timedelta(minutes=i), first_seen_at=base, last_seen_at=base,
        )
        for i in range(start, start + count)
    ])
    delivered(integration, incident)


@pytest.fixture
def incident(p1: Severity) -> Incident:
    return incident_open(title="Nodes down", severity=p1, source=Source.ALERTMANAGER)


@pytest.fixture
def integration() -> Integration:
    return integration_create(name="prod-am")[0]


def page_html(client: Client, incident: Incident, **params: str) -> str:
    response = client.get(reverse("incidents:detail", args=[incident.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def fragment(client: Client, incident: Incident, **params: str):
    return client.get(reverse("alertmanager:incident-alerts", args=[incident.pk]), params,
                      headers={"HX-Request": "true"})


def instances(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<span class="chip-v">node-(\d+):9100</span>', html)]


def test_it_shows_the_newest_50_of_300_alerts_with_counts_by_state_and_a_next_page(
    responder_client: Client, incident: Incident, integration: Integration
) -> None:
    add_alerts(integration, incident, 300, resolved_every=3)

    html = page_html(responder_client, incident)

    assert instances(html) == list(range(299, 249, -1))  # newest first, 50 of them
    assert re.search(r'data-testid="alerts-count-all">All <strong>300</strong>', html)
    assert re.search(r'data-testid="alerts-count-firing">Firing <strong>200</strong>', html)
    assert re.search(r'data-testid="alerts-count-resolved">Resolved <strong>100</strong>', html)
    assert "Page 1 of 6" in html
    older = re.search(r'href="([^"]+)"[^>]*data-testid="alerts-older"', html)
    assert older is not None
    assert instances(responder_client.get(older.group(1).replace("&amp;", "&")).content.decode()) == list(
        range(249, 199, -1)
    )


def test_it_pages_and_filters_by_state_through_the_fragment(
    responder_client: Client, incident: Incident, integration: Integration
) -> None:
    add_alerts(integration, incident, 300, resolved_every=3)

    page2 = fragment(responder_client, incident, alerts_page="2", alerts_state="resolved").content.decode()

    resolved = [i for i in range(299, -1, -1) if i % 3 == 0]
    assert instances(page2) == resolved[50:100]
    assert "Page 2 of 2" in page2 and 'data-testid="alerts-older"' not in page2
    assert 'data-testid="alerts-newer"' in page2


def test_search_by_label_finds_the_one_alert(
    responder_client: Client, incident: Incident, integration: Integration
) -> None:
    add_alerts(integration, incident, 300)

    by_label = fragment(responder_client, incident, alerts_q="service=checkout").content.decode()
    by_text = fragment(responder_client, incident, alerts_q="NODE-137:").content.decode()
    both = page_html(responder_client, incident, alerts_q='alertname=NodeDown "node-137"')

    assert instances(by_label) == [137] and "Showing 1–1 of 1 matching" in by_label
    assert instances(by_text) == [137]
    assert instances(both) == [137]
    assert instances(fragment(responder_client, incident, alerts_q="service=check").content.decode()) == []
    # The user's % and _ are characters, not wildcards.
    assert instances(fragment(responder_client, incident, alerts_q="node_13%").content.decode()) == []


def test_a_search_that_means_nothing_is_a_400_naming_the_parameter(
    responder_client: Client, incident: Incident, integration: Integration
) -> None:
    add_alerts(integration, incident, 3)

    for params, message in (
        ({"alerts_q": "=checkout"}, "needs a label name"),
        ({"alerts_q": 'service="checkout'}, "unbalanced quote"),
        ({"alerts_q": "x" * 201}, "at most 200"),
        ({"alerts_state": "pending"}, "alerts_state must be one of"),
        ({"alerts_page": "two"}, "alerts_page must be a page number"),
    ):
        response = fragment(responder_client, incident, **params)
        assert response.status_code == 400, params
        assert message in response.content.decode()


def test_the_page_is_the_same_size_with_300_alerts_as_with_51(
    responder_client: Client, p1: Severity, integration: Integration
) -> None:
    small = incident_open(title="Nodes down", severity=p1, source=Source.ALERTMANAGER)
    large = incident_open(title="Nodes down", severity=p1, source=Source.ALERTMANAGER)
    add_alerts(integration, small, 51)
    add_alerts(integration, large, 300)

    small_size = len(page_html(responder_client, small))
    large_size = len(page_html(responder_client, large))

    # Same 50 rows and pager; only counts, page numbers and ids differ.
    assert abs(large_size - small_size) < 300, (small_size, large_size)


def test_a_poll_with_the_current_version_is_204_and_with_an_old_one_brings_the_new_rows(
    responder_client: Client, incident: Incident, integration: Integration
) -> None:
    add_alerts(integration, incident, 60)
    html = page_html(responder_client, incident)
    poll = re.search(r'<div id="alerts-body" hx-get="([^"]+)"', html)
    assert poll is not None
    poll_url = poll.group(1).replace("&amp;", "&")

    unchanged = responder_client.get(poll_url, headers={"HX-Request": "true"})
    assert unchanged.status_code == 204 and unchanged.content == b""

    add_alerts(integration, incident, 1, start=500)
    changed = responder_client.get(poll_url, headers={"HX-Request": "true"})
    assert changed.status_code == 200
    assert instances(changed.content.decode())[0] == 500
    assert "All <strong>61</strong>" in changed.content.decode()

    # A repeat (Alertmanager re-sending a known alert) changes what the table shows too.
    new_url = re.search(r'hx-get="([^"]+)"', changed.content.decode())
    assert new_url is not None
    Alert.objects.filter(incident=incident, fingerprint="fp000500").update(last_seen_at=timezone.now(),
                                                                          times_received=2)
    delivered(integration, incident)
    assert responder_client.get(new_url.group(1).replace("&amp;", "&"),
                                headers={"HX-Request": "true"}).status_code == 200


def test_the_stylesheet_is_a_static_file_not_inline_in_every_poll(
    responder_client: Client, incident: Incident, integration: Integration
) -> None:
    add_alerts(integration, incident, 2)

    body = fragment(responder_client, incident).content.decode()
    page = page_html(responder_client, incident)

    assert "<style" not in body and "<style" not in page
    assert ".am-panel" in (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_text()
