"""The incident page's timeline is bounded (newest 50, older ones a link away) and its poll
answers 204 while no event was added."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents import lifecycle
from incidents.models import EventKind, Incident, Source, TimelineEvent

pytestmark = pytest.mark.django_db


def add_notes(incident: Incident, count: int) -> None:
    base = timezone.now() - timedelta(days=1)
    TimelineEvent.objects.bulk_create([
        TimelineEvent(incident=incident, kind=EventKind.NOTE, source=Source.API, message=f"note number {i}.",
                      created_at=base + timedelta(seconds=i))
        for i in range(count)
    ])


def notes(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"note number (\d+)\.", html)]


def link(html: str, testid: str) -> str:
    found = re.search(rf'href="([^"]+)"[^>]*data-testid="{testid}"', html)
    assert found is not None, testid
    return found.group(1).replace("&amp;", "&")


def test_it_shows_the_newest_50_events_and_pages_to_older_ones(responder_client: Client, triggered_p1: Incident) -> None:
    add_notes(triggered_p1, 300)  # all older than the "Opened" event

    html = responder_client.get(reverse("incidents:detail", args=[triggered_p1.pk])).content.decode()

    assert notes(html) == list(range(251, 300))  # 49 notes + the "Opened" event, oldest first
    assert "Opened as P1 Critical." in html
    assert "301 events" in html
    older = responder_client.get(link(html, "timeline-older")).content.decode()
    assert notes(older) == list(range(201, 251))
    assert 'data-testid="timeline-newest"' in older
    fragment = responder_client.get(reverse("incidents:timeline", args=[triggered_p1.pk]),
                             {"timeline_before": re.search(r"timeline_before=(\d+)", link(html, "timeline-older"))
                              .group(1)},  # type: ignore[union-attr]
                             headers={"HX-Request": "true"}).content.decode()
    assert notes(fragment) == list(range(201, 251))


def test_the_page_is_the_same_size_with_300_events_as_with_60(responder_client: Client, p1, responder) -> None:
    small = lifecycle.incident_open(title="Checkout returns 502", severity=p1, source=Source.WEB, actor=responder)
    large = lifecycle.incident_open(title="Checkout returns 502", severity=p1, source=Source.WEB, actor=responder)
    add_notes(small, 60)
    add_notes(large, 300)

    sizes = [len(responder_client.get(reverse("incidents:detail", args=[i.pk])).content) for i in (small, large)]

    assert abs(sizes[1] - sizes[0]) < 200, sizes


def test_a_poll_with_the_current_version_is_204_and_a_new_event_brings_it(
    responder_client: Client, triggered_p1: Incident, responder
) -> None:
    html = responder_client.get(reverse("incidents:detail", args=[triggered_p1.pk])).content.decode()
    poll = re.search(r'<section id="timeline" class="timeline" hx-get="([^"]+)"', html)
    assert poll is not None
    poll_url = poll.group(1).replace("&amp;", "&")

    unchanged = responder_client.get(poll_url, headers={"HX-Request": "true"})
    assert unchanged.status_code == 204 and unchanged.content == b""

    lifecycle.incident_add_note(incident=triggered_p1, text="Rolled back the deploy.", actor=responder,
                                source=Source.WEB)
    changed = responder_client.get(poll_url, headers={"HX-Request": "true"})
    assert changed.status_code == 200
    assert "Rolled back the deploy." in changed.content.decode()


def test_a_cursor_that_names_no_event_of_this_incident_is_a_400(
    responder_client: Client, triggered_p1: Incident, closed_p3: Incident
) -> None:
    other = TimelineEvent.objects.filter(incident=closed_p3).first()
    assert other is not None
    for value, message in (("abc", "must be an event id"), (str(other.pk), "is not on incident")):
        response = responder_client.get(reverse("incidents:timeline", args=[triggered_p1.pk]), {"timeline_before": value},
                                 headers={"HX-Request": "true"})
        assert response.status_code == 400
        assert message in response.content.decode()
        page = responder_client.get(reverse("incidents:detail", args=[triggered_p1.pk]), {"timeline_before": value})
        assert page.status_code == 400 and message in page.content.decode()
