"""Incident actions posted from the page: htmx swaps fresh panels, plain posts redirect with a
message, and a refused action is a 4xx with the reason next to the form."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from incidents import lifecycle
from incidents.forms import COMMANDER_CHOICES_MAX
from incidents.models import EventKind, Incident, Source, Status

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def post(client: Client, name: str, incident: Incident, data: dict[str, object] | None = None,
         htmx: bool = True) -> Response:
    return client.post(reverse(f"incidents:{name}", args=[incident.pk]), data or {}, headers=HX if htmx else {})


def fresh(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def test_it_acknowledges_and_swaps_in_the_header_and_timeline(responder_client, triggered_p1):
    response = post(responder_client, "acknowledge", triggered_p1)

    html = response.content.decode()
    assert response.status_code == 200
    assert fresh(triggered_p1).status == Status.ACKNOWLEDGED
    assert html.lstrip().startswith('<section id="incident-header"')
    assert '<section id="timeline"' in html and 'hx-swap-oob="true"' in html
    assert "<li class=\"ev ev-acknowledged\">" in html
    assert f"Acknowledged #{triggered_p1.pk}." in html  # the flash message, swapped out of band
    assert reverse("incidents:acknowledge", args=[triggered_p1.pk]) not in html  # no second ack button


def test_it_mitigates_resolves_reopens_and_closes(responder_client, triggered_p1):
    post(responder_client, "mitigate", triggered_p1)
    assert fresh(triggered_p1).status == Status.MITIGATED

    html = post(responder_client, "resolve", triggered_p1, {"note": "Rolled back deploy 3."}).content.decode()
    assert fresh(triggered_p1).status == Status.RESOLVED
    assert "Rolled back deploy 3." in html

    html = post(responder_client, "reopen", triggered_p1).content.decode()
    assert fresh(triggered_p1).status == Status.TRIGGERED
    assert "ev-reopened" in html

    post(responder_client, "resolve", triggered_p1)
    html = post(responder_client, "close", triggered_p1).content.decode()
    assert fresh(triggered_p1).status == Status.CLOSED
    assert "ev-closed" in html
    kinds = list(triggered_p1.events.values_list("kind", flat=True))
    assert kinds == ["opened", "mitigated", "resolved", "reopened", "resolved", "closed"]


def test_it_assigns_me_or_someone_else_as_commander(responder_client, triggered_p1, responder, other_responder):
    html = post(responder_client, "assign", triggered_p1, {"commander": responder.pk}).content.decode()
    assert fresh(triggered_p1).commander == responder
    assert "Commander: responder." in html

    html = post(responder_client, "assign", triggered_p1, {"commander": other_responder.pk}).content.decode()
    assert fresh(triggered_p1).commander == other_responder
    assert "Commander: second." in html


def test_it_changes_severity_and_recomputes_the_deadlines(responder_client, triggered_p1, p3):
    html = post(responder_client, "severity", triggered_p1, {"severity": "P3"}).content.decode()

    incident = fresh(triggered_p1)
    assert incident.severity == p3
    assert incident.response_due_at == incident.opened_at + p3.response_target
    assert "Severity P1 → P3." in html


def test_it_adds_a_note_to_the_timeline(responder_client, triggered_p1, responder):
    html = post(responder_client, "note", triggered_p1, {"text": "DB failover started."}).content.decode()

    assert "DB failover started." in html
    event = triggered_p1.events.get(kind=EventKind.NOTE)
    assert event.actor == responder
    assert event.source == Source.WEB


def test_it_refuses_to_acknowledge_a_closed_incident_with_409_and_says_why(responder_client, closed_p3):
    response = post(responder_client, "acknowledge", closed_p3)

    html = response.content.decode()
    assert response.status_code == 409
    assert f"Cannot acknowledge incident #{closed_p3.pk}: it is closed." in html
    assert 'role="alert"' in html
    assert response["X-Inline-Error"] == "true"  # app.js swaps it in place, even under DEBUG
    assert fresh(closed_p3).status == Status.CLOSED
    assert not closed_p3.events.filter(kind=EventKind.ACKNOWLEDGED).exists()


def test_it_tells_the_loser_of_an_acknowledge_race_who_won(responder_client, triggered_p1, other_responder):
    lifecycle.incident_acknowledge(incident=triggered_p1, actor=other_responder, source=Source.API)

    response = post(responder_client, "acknowledge", triggered_p1)

    assert response.status_code == 409
    assert "already acknowledged by second" in response.content.decode()


def test_it_rejects_an_empty_note_inline_with_400(responder_client, triggered_p1):
    response = post(responder_client, "note", triggered_p1, {"text": "   "})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Write something before adding the note." in html
    assert not triggered_p1.events.filter(kind=EventKind.NOTE).exists()


def test_it_keeps_a_refused_note_in_the_textarea(responder_client, triggered_p1):
    text = "Found the cause. " + "x" * 10_000

    response = post(responder_client, "note", triggered_p1, {"text": text})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value has at most 10000 characters (it has 10017)." in html
    assert f"{text}</textarea>" in html
    assert not triggered_p1.events.filter(kind=EventKind.NOTE).exists()


def test_it_refuses_a_note_on_a_closed_incident_with_409(responder_client, closed_p3):
    response = post(responder_client, "note", closed_p3, {"text": "Found the cause"})

    assert response.status_code == 409
    assert f"Cannot note incident #{closed_p3.pk}: it is closed." in response.content.decode()


def test_it_rejects_an_unknown_severity_with_400(responder_client, triggered_p1, p1):
    response = post(responder_client, "severity", triggered_p1, {"severity": "P9"})

    assert response.status_code == 400
    assert "Unknown severity “P9”" in response.content.decode()
    assert fresh(triggered_p1).severity == p1


def test_it_rejects_an_unknown_commander_with_400(responder_client, triggered_p1):
    response = post(responder_client, "assign", triggered_p1, {"commander": 987654})

    assert response.status_code == 400
    assert "That person is not an active user." in response.content.decode()
    assert fresh(triggered_p1).commander is None


def test_it_answers_404_for_an_action_on_an_unknown_incident(responder_client):
    response = responder_client.post(reverse("incidents:acknowledge", args=[999999]), headers=HX)
    assert response.status_code == 404


def test_it_redirects_a_plain_post_back_with_a_message(responder_client, triggered_p1):
    response = post(responder_client, "acknowledge", triggered_p1, htmx=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:detail", args=[triggered_p1.pk])
    page = responder_client.get(response["Location"]).content.decode()
    assert f"Acknowledged #{triggered_p1.pk}." in page
    assert fresh(triggered_p1).status == Status.ACKNOWLEDGED


def test_it_redirects_a_refused_plain_post_back_with_the_reason(responder_client, closed_p3):
    response = post(responder_client, "acknowledge", closed_p3, htmx=False)

    assert response.status_code == 302
    page = responder_client.get(response["Location"]).content.decode()
    assert f"Cannot acknowledge incident #{closed_p3.pk}: it is closed." in page


def test_it_takes_actions_only_by_post_from_signed_in_users(responder_client, triggered_p1):
    assert responder_client.get(reverse("incidents:acknowledge", args=[triggered_p1.pk])).status_code == 405

    responder_client.logout()
    response = post(responder_client, "acknowledge", triggered_p1)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert fresh(triggered_p1).status == Status.TRIGGERED


def test_the_commander_picker_lists_the_first_200_people_and_takes_anyone_else_by_username(
    responder_client, triggered_p1, responder
):
    User.objects.bulk_create([User(username=f"eng{i:04d}", email=f"eng{i:04d}@example.com") for i in range(400)])
    page = responder_client.get(f"/incidents/{triggered_p1.pk}/").content.decode()
    picker = page[page.index('name="commander" aria-label="Commander"'):]
    picker = picker[:picker.index("</select>")]
    assert picker.count("<option") == 1 + COMMANDER_CHOICES_MAX  # "nobody" and the first 200
    assert "eng0399" not in picker and 'data-testid="commander-username"' in page

    html = post(responder_client, "assign", triggered_p1, {"commander": "", "commander_username": "eng0399"})
    assert fresh(triggered_p1).commander.username == "eng0399"  # type: ignore[union-attr]
    assert "Commander: eng0399." in html.content.decode()
    # The commander is listed (and selected) though past the first 200.
    page = responder_client.get(f"/incidents/{triggered_p1.pk}/").content.decode()
    assert re.search(r'<option value="\d+" selected>eng0399</option>', page)

    refused = post(responder_client, "assign", triggered_p1, {"commander": "", "commander_username": "nobody-here"})
    assert refused.status_code == 400 and "No active user named “nobody-here”." in refused.content.decode()
    assert fresh(triggered_p1).commander.username == "eng0399"  # type: ignore[union-attr]
