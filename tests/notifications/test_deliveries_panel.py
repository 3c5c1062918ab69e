"""The deliveries panel of an incident with hundreds of messages: the newest page, the counts by
status, the next page and one status at a time, a message opened on request, and a refresh that
answers 204 while nothing changed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from incidents import lifecycle
from incidents.models import Incident, Severity, Source
from incidents.notifications import outbox
from incidents.notifications.models import Conversation, Delivery
from incidents.notifications.panels import PAGE_SIZE

from .conftest import RecordingSender

pytestmark = pytest.mark.django_db

STATUSES = ["sent", "sent", "failed", "dead", "pending", "sent"]  # 300 of them: 150 sent, 50 of each other


def add_deliveries(incident: Incident, count: int) -> list[Delivery]:
    """``count`` more deliveries, one second apart after the incident opened; message ``n`` says so."""
    conversation, _ = Conversation.objects.get_or_create(incident=incident, channel="recorder", target="#ops")
    return Delivery.objects.bulk_create([
        Delivery(conversation=conversation, incident=incident, kind="note", channel="recorder", target="#ops",
                 payload={"text": f"Update number {n} for the on-call"}, status=STATUSES[n % len(STATUSES)],
                 attempts=1, last_error="Recorder answered 500" if STATUSES[n % len(STATUSES)] == "failed" else "",
                 next_attempt_at=incident.opened_at + timedelta(hours=1), created_at=incident.opened_at
                 + timedelta(seconds=n + 1), sent_at=incident.opened_at + timedelta(seconds=n + 2))
        for n in range(count)
    ])


@pytest.fixture
def busy(p1: Severity, recorder: RecordingSender) -> Incident:
    """An incident whose only deliveries are 300 bench-made ones (the opening message is dropped)."""
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    Delivery.objects.filter(incident=incident).delete()
    add_deliveries(incident, 300)
    return incident


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="delivery-(\w+)"', html)


def shown(html: str) -> list[int]:
    """The deliveries in the table, top to bottom (by the link that opens each message)."""
    return [int(pk) for pk in re.findall(r'href="/notifications/deliveries/(\d+)/preview"', html)]


def panel(html: str) -> str:
    return html[html.index('<section id="deliveries"'):].split("</section>", 1)[0]


def test_the_page_shows_the_newest_deliveries_the_counts_and_a_link_to_older_ones(
    responder_client: Client, busy: Incident
) -> None:
    html = panel(responder_client.get(f"/incidents/{busy.pk}/").content.decode())
    assert len(rows(html)) == PAGE_SIZE
    assert "300 messages" in html and "1–10 of 300" in html
    newest = list(Delivery.objects.filter(incident=busy).order_by("-created_at").values_list("pk", flat=True))
    assert shown(html) == newest[:PAGE_SIZE]
    counts = dict(re.findall(r'data-testid="deliveries-count-(\w+)"[^>]*>\w+ <strong>(\d+)</strong>', html))
    assert counts == {"pending": "50", "sent": "150", "failed": "50", "dead": "50"}
    older = re.search(r'hx-get="([^"]+)"[^>]*data-testid="deliveries-older"', html)
    assert older is not None

    second = responder_client.get(older.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert second.status_code == 200
    body = second.content.decode()
    assert shown(body) == newest[PAGE_SIZE:2 * PAGE_SIZE]
    assert "11–20 of 300" in body and 'data-testid="deliveries-newer"' in body


def test_a_count_shows_only_the_deliveries_in_that_status(responder_client: Client, busy: Incident) -> None:
    html = responder_client.get(f"/notifications/incidents/{busy.pk}/deliveries?deliveries_status=failed",
                                headers={"HX-Request": "true"}).content.decode()
    assert set(rows(html)) == {"failed"} and len(rows(html)) == PAGE_SIZE
    assert "1–10 of 50 failed" in html and "Recorder answered 500" in html and "Retry now" in html
    # Without JS the same view is the incident page's, by its query string.
    page = responder_client.get(f"/incidents/{busy.pk}/?deliveries_status=dead&deliveries_page=5").content.decode()
    assert set(rows(panel(page))) == {"dead"} and "41–50 of 50 dead" in page


def test_a_message_is_read_only_when_its_row_is_opened(responder_client: Client, busy: Incident) -> None:
    newest = Delivery.objects.filter(incident=busy).order_by("-created_at").first()
    assert newest is not None and newest.status == "sent"
    html = panel(responder_client.get(f"/incidents/{busy.pk}/").content.decode())
    assert "Update number" not in html  # sent messages are not rendered into the page
    url = f"/notifications/deliveries/{newest.pk}/preview"
    assert f'hx-get="{url}"' in html and f'href="{url}"' in html

    opened = responder_client.get(url, headers={"HX-Request": "true"})
    assert opened.status_code == 200
    assert opened.content.decode().strip() == (
        '<pre class="message-preview" data-testid="delivery-message">Update number 299 for the on-call</pre>')
    # Without JS the link opens the message as a page of its own, with the way back.
    page = responder_client.get(url).content.decode()
    assert "Update number 299 for the on-call" in page and f'href="/incidents/{busy.pk}/#deliveries"' in page
    assert responder_client.get("/notifications/deliveries/999999/preview").status_code == 404


def test_a_not_configured_channel_still_shows_its_message_open(
    responder_client: Client, p1: Severity, recorder: RecordingSender
) -> None:
    recorder.is_configured = False
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    html = panel(responder_client.get(f"/incidents/{incident.pk}/").content.decode())
    assert rows(html) == ["preview"] and "<details open>" in html and "INCIDENT ALERT - P1" in html


def test_the_refresh_answers_204_until_a_delivery_is_added_or_changes(
    responder_client: Client, busy: Incident
) -> None:
    html = responder_client.get(f"/incidents/{busy.pk}/").content.decode()
    poll = re.search(r'<section id="deliveries"[^>]* hx-get="([^"]+)"', html)
    assert poll is not None
    url = poll.group(1).replace("&amp;", "&")
    assert "since=" in url
    assert responder_client.get(url, headers={"HX-Request": "true"}).status_code == 204

    failed = Delivery.objects.filter(incident=busy, status="failed").first()
    assert failed is not None
    outbox.delivery_retry_now(delivery=failed)  # failed -> pending
    changed = responder_client.get(url, headers={"HX-Request": "true"})
    assert changed.status_code == 200 and "49</strong>" in changed.content.decode()

    url = re.sub(r"since=[^&]+", "since=" + re.search(r'since=([^"&]+)', changed.content.decode())[1], url)  # type: ignore[index]
    assert responder_client.get(url, headers={"HX-Request": "true"}).status_code == 204
    Delivery.objects.filter(pk=failed.pk).update(status="sent", attempts=failed.attempts + 1)  # the worker sent it
    assert responder_client.get(url, headers={"HX-Request": "true"}).status_code == 200
    add_deliveries(busy, 1)
    assert responder_client.get(url, headers={"HX-Request": "true"}).status_code == 200


def test_retry_now_keeps_the_page_the_user_was_on(responder_client: Client, busy: Incident) -> None:
    html = responder_client.get(f"/notifications/incidents/{busy.pk}/deliveries?deliveries_status=failed"
                                "&deliveries_page=2", headers={"HX-Request": "true"}).content.decode()
    retry = re.search(r'hx-post="(/notifications/deliveries/(\d+)/retry[^"]*)"', html)
    assert retry is not None and "deliveries_page=2" in retry.group(1)
    answer = responder_client.post(retry.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "11–20 of 49 failed" in answer.content.decode()
    assert Delivery.objects.get(pk=retry.group(2)).status == "pending"


def test_a_bad_page_or_status_is_a_400_in_the_panel(responder_client: Client, busy: Incident) -> None:
    for query in ("deliveries_page=0", "deliveries_page=x", "deliveries_status=lost"):
        answer = responder_client.get(f"/notifications/incidents/{busy.pk}/deliveries?{query}",
                                      headers={"HX-Request": "true"})
        assert answer.status_code == 400 and answer["X-Inline-Error"] == "true"
        assert "deliveries_" in answer.content.decode()
    # On the page the panel names the error and shows the newest deliveries.
    page = responder_client.get(f"/incidents/{busy.pk}/?deliveries_page=0").content.decode()
    assert "deliveries_page must be a page number" in page and len(rows(panel(page))) == PAGE_SIZE


def test_a_refresh_drawn_for_one_person_gives_the_next_their_own_working_retry_form(
    responder: User, other_responder: User, busy: Incident
) -> None:
    """The redrawn panel is kept per version and shared; each answer carries its reader's CSRF token."""
    url = f"/notifications/incidents/{busy.pk}/deliveries?deliveries_status=failed"
    forms = []
    for user in (responder, other_responder):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        client.get(f"/incidents/{busy.pk}/")  # the page sets the CSRF cookie, as in a browser
        html = client.get(url, headers={"HX-Request": "true"}).content.decode()
        form = re.search(r'<form method="post" action="(/notifications/deliveries/(\d+)/retry[^"]*)"[^>]*>'
                         r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">', html)
        assert form is not None
        forms.append((client, form))
    assert forms[0][1].group(3) != forms[1][1].group(3)  # not one person's token handed to the other
    for client, form in forms:
        # Without JS: a plain form post with the token in the page.
        answer = client.post(form.group(1).replace("&amp;", "&"), {"csrfmiddlewaretoken": form.group(3)})
        assert answer.status_code in (200, 302), answer.content[:300]
        assert Delivery.objects.get(pk=form.group(2)).status == "pending"
