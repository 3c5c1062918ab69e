"""The incident page costs the same however long the incident runs: the number of database queries
of the page and of its unchanged polls does not grow with its alerts, timeline events or deliveries
(docs/architecture.md section 8)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from incidents import lifecycle
from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Alert, AlertStatus, Integration
from incidents.models import EventKind, Incident, Severity, Source, TimelineEvent
from incidents.notifications.models import Conversation, Delivery
from tests.notifications.conftest import RecordingSender, recorder  # noqa: F401 - a channel to deliver to

pytestmark = pytest.mark.django_db

# What the page reads, whatever its size: the session and the user, the incident and its timeline,
# the two pickers, and each panel's few queries (a cold page also counts the alerts once per version).
PAGE_QUERIES_MAX = 25


def grow(incident: Incident, integration: Integration, n: int) -> None:
    """``n`` more alerts, timeline events and deliveries, as an alert storm leaves them."""
    now = timezone.now()
    start = Alert.objects.filter(incident=incident).count()
    Alert.objects.bulk_create([
        Alert(integration=integration, incident=incident, fingerprint=f"fp{i:06d}",
              status=AlertStatus.RESOLVED if i % 3 == 0 else AlertStatus.FIRING,
              labels={"alertname": "NodeDown", "instance": f"node-{i}:9100"},
              annotations={"summary": f"node-{i} is down"}, starts_at=now - timedelta(minutes=i),
              first_seen_at=now, last_seen_at=now + timedelta(microseconds=start + n))
        for i in range(start, start + n)
    ])
    TimelineEvent.objects.bulk_create([
        TimelineEvent(incident=incident, kind=EventKind.NOTE, source=Source.API, message=f"Checked node-{i}",
                      created_at=now + timedelta(seconds=i))
        for i in range(start, start + n)
    ])
    conversation, _ = Conversation.objects.get_or_create(incident=incident, channel="recorder", target="#ops")
    Delivery.objects.bulk_create([
        Delivery(conversation=conversation, incident=incident, kind="note", channel="recorder", target="#ops",
                 payload={"text": f"Checked node-{i}"}, status="failed" if i % 4 == 0 else "sent", attempts=1,
                 last_error="Recorder answered 500" if i % 4 == 0 else "", created_at=now + timedelta(seconds=i))
        for i in range(start, start + n)
    ])


@pytest.fixture
def storm(p1: Severity, recorder: RecordingSender) -> tuple[Incident, Integration]:  # noqa: F811
    incident = lifecycle.incident_open(title="Nodes down", severity=p1, source=Source.ALERTMANAGER)
    return incident, integration_create(name="prod-am")[0]


def queries(client: Client, url: str, *, htmx: bool = False) -> tuple[int, str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
    return len(captured), response.content.decode(), response.status_code


def test_the_page_reads_as_much_with_2000_alerts_events_and_deliveries_as_with_5(
    responder_client: Client, storm: tuple[Incident, Integration], django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    incident, integration = storm
    grow(incident, integration, 5)
    small, html, _ = queries(responder_client, f"/incidents/{incident.pk}/")
    assert re.search(r'alerts-count-all">All <strong>5</strong>', html)
    assert small <= PAGE_QUERIES_MAX

    grow(incident, integration, 2000)
    with django_assert_max_num_queries(small):
        html = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    # The page shows what grew, bounded: counts of everything, 50 alerts and events, 10 deliveries.
    assert re.search(r'alerts-count-all">All <strong>2005</strong>', html)
    assert html.count('data-testid="alert-row"') == 50
    assert "2006 events, newest 50 shown" in html  # the notes and "Opened"
    assert "2006 messages" in html and html.count('<tr data-testid="delivery-') == 10


def test_unchanged_polls_answer_204_after_one_query_or_two(
    responder_client: Client, storm: tuple[Incident, Integration]
) -> None:
    incident, integration = storm
    grow(incident, integration, 500)
    html = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    polls = dict(re.findall(r'<(?:section|div) id="([^"]+)"[^>]* hx-get="([^"]+)" hx-trigger="every', html))
    assert {"alerts-body", "timeline", "deliveries", "runbook-runs"} <= set(polls)
    for name, most in (("timeline", 1), ("deliveries", 1), ("runbook-runs", 1), ("alerts-body", 2)):
        count, body, status = queries(responder_client, polls[name].replace("&amp;", "&"), htmx=True)
        assert status == 204 and body == "", name
        assert count <= 2 + most, name  # the session and the user, then the version
    # The escalation panel's version: the incident and its newest escalated or reopened event.
    count, body, status = queries(responder_client, polls["escalation"].replace("&amp;", "&"), htmx=True)
    assert status == 204 and body == "" and count <= 2 + 2


def test_a_changed_list_is_drawn_once_per_version_for_everyone_watching(
    responder_client: Client, login, other_responder, storm: tuple[Incident, Integration]
) -> None:
    incident, integration = storm
    grow(incident, integration, 50)
    html = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    polls = {k: v.replace("&amp;", "&") for k, v in
             re.findall(r'<(?:section|div) id="([^"]+)"[^>]* hx-get="([^"]+)" hx-trigger="every', html)}
    grow(incident, integration, 5)  # both lists changed since the page was drawn
    second = login(other_responder)
    for name in ("alerts-body", "timeline"):
        first_count, first, status = queries(responder_client, polls[name], htmx=True)
        assert status == 200 and ("<strong>55</strong>" in first if name == "alerts-body" else "56 events" in first), first[:600]
        # Someone else watching the same version gets the same answer from memory: the version
        # queries only, no incident, rows or rendering.
        count, again, status = queries(second, polls[name], htmx=True)
        assert status == 200 and again == first, name
        assert count < first_count and count <= 2 + 2, name
