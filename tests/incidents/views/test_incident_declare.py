"""Declaring an incident by hand: it opens through the lifecycle; bad input is an inline error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import EventKind, Incident, Service, Source, Status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("severities")]
DECLARE = reverse("incidents:declare")


def test_it_shows_the_form_with_every_severity(responder_client):
    html = responder_client.get(DECLARE).content.decode()
    for name in ("P1", "P2", "P3", "P4"):
        assert f'name="severity" value="{name}"' in html
    assert "ack 15m · fix 1h" in html  # P1's targets, so the choice is informed


def test_it_declares_an_incident_and_opens_its_page(responder_client, responder, p1):
    service = Service.objects.create(name="checkout-api", owner_team="payments")

    response = responder_client.post(DECLARE, {"title": "Checkout down", "severity": "P1", "service": service.pk,
                                        "description": "All EU traffic fails."})

    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:detail", args=[incident.pk])
    assert (incident.title, incident.severity, incident.service, incident.status) == (
        "Checkout down", p1, service, Status.TRIGGERED)
    assert incident.source == Source.WEB
    assert incident.created_by == responder
    opened = incident.events.get(kind=EventKind.OPENED)
    assert (opened.actor, opened.source) == (responder, Source.WEB)


@pytest.mark.parametrize("title, message", [
    ("", "Give the incident a title"),
    ("   ", "Give the incident a title"),
    ("x" * 201, "Keep the title to 200 characters or fewer (it has 201)."),
])
def test_it_rejects_a_bad_title_inline_and_creates_nothing(responder_client, title, message):
    response = responder_client.post(DECLARE, {"title": title, "severity": "P2"})

    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert 'value="P2" checked' in html  # the rest of the input survives
    assert not Incident.objects.exists()


def test_it_rejects_an_unknown_severity_inline(responder_client):
    response = responder_client.post(DECLARE, {"title": "Checkout down", "severity": "P9"})

    assert response.status_code == 400
    assert "Unknown severity “P9”" in response.content.decode()
    assert not Incident.objects.exists()


def test_it_asks_for_a_severity_when_none_was_chosen(responder_client):
    response = responder_client.post(DECLARE, {"title": "Checkout down"})

    assert response.status_code == 400
    assert "Pick a severity: it sets the SLA clocks." in response.content.decode()
    assert not Incident.objects.exists()
