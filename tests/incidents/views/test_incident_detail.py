"""The incident page: header, SLA panel, the actions valid for the status, the timeline, 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents import lifecycle
from incidents.models import Source

pytestmark = pytest.mark.django_db


def detail(incident) -> str:
    return reverse("incidents:detail", args=[incident.pk])


def test_it_shows_the_incident_with_its_sla_clocks_and_timeline(responder_client, p1, responder):
    incident = lifecycle.incident_open(
        title="Checkout returns 502", severity=p1, source=Source.WEB, actor=responder,
        description="Error rate 38% since the deploy.", labels={"region": "eu-west-1"},
    )

    response = responder_client.get(detail(incident))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Checkout returns 502" in html
    assert "Error rate 38% since the deploy." in html
    assert '<span class="chip-k">region</span><span class="chip-v">eu-west-1</span>' in html
    assert 'data-testid="countdown-response"' in html
    assert 'data-testid="countdown-resolution"' in html
    assert "Opened as P1 Critical." in html  # the timeline's first event


def test_it_offers_only_the_actions_the_status_allows(responder_client, triggered_p1, closed_p3, responder):
    html = responder_client.get(detail(triggered_p1)).content.decode()
    assert reverse("incidents:acknowledge", args=[triggered_p1.pk]) in html
    assert reverse("incidents:resolve", args=[triggered_p1.pk]) in html
    assert reverse("incidents:reopen", args=[triggered_p1.pk]) not in html
    assert reverse("incidents:close", args=[triggered_p1.pk]) not in html

    lifecycle.incident_resolve(incident=triggered_p1, actor=responder, source=Source.WEB)
    html = responder_client.get(detail(triggered_p1)).content.decode()
    assert reverse("incidents:acknowledge", args=[triggered_p1.pk]) not in html
    assert reverse("incidents:reopen", args=[triggered_p1.pk]) in html
    assert reverse("incidents:close", args=[triggered_p1.pk]) in html

    html = responder_client.get(detail(closed_p3)).content.decode()
    assert "hx-post" not in html
    assert "nothing changes them any more" in html


def test_it_shows_mtta_and_mttr_once_known(responder_client, triggered_p1, responder):
    html = responder_client.get(detail(triggered_p1)).content.decode()
    assert "MTTA" not in html

    lifecycle.incident_acknowledge(incident=triggered_p1, actor=responder, source=Source.WEB)
    lifecycle.incident_resolve(incident=triggered_p1, actor=responder, source=Source.WEB)
    html = responder_client.get(detail(triggered_p1)).content.decode()
    assert "MTTA" in html
    assert "MTTR" in html
    assert "met with" in html  # both SLA clocks stopped in time


def test_it_answers_an_unknown_incident_with_the_404_page(responder_client):
    response = responder_client.get(reverse("incidents:detail", args=[999999]))
    assert response.status_code == 404
    assert "Incident #999999 does not exist." in response.content.decode()


def test_it_serves_the_timeline_alone_for_polling(responder_client, triggered_p1):
    response = responder_client.get(reverse("incidents:timeline", args=[triggered_p1.pk]), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="timeline"')
    assert "Opened as P1 Critical." in html
