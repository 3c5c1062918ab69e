"""The incident list: who may see it, urgency order, filters, the htmx rows partial, SLA marks."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Source
from incidents.sla import sla_record_breaches

pytestmark = pytest.mark.django_db
LIST = reverse("incidents:list")


@pytest.mark.parametrize("name, args", [("incidents:list", []), ("incidents:declare", []),
                                        ("incidents:detail", [1])])
def test_it_sends_anonymous_visitors_to_the_login_page(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_it_lists_open_incidents_most_urgent_first(responder_client, p1, p3, responder):
    minor = lifecycle.incident_open(title="Slow search", severity=p3, source=Source.WEB, actor=responder)
    major = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB, actor=responder)

    response = responder_client.get(LIST)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(major.title) < html.index(minor.title)
    assert f'href="{reverse("incidents:detail", args=[major.pk])}"' in html
    assert 'style="--sev: #dc2626"' in html  # P1's colour on its badge


def test_it_leaves_closed_incidents_out_of_the_default_view(responder_client, triggered_p1, closed_p3):
    html = responder_client.get(LIST).content.decode()
    assert triggered_p1.title in html
    assert closed_p3.title not in html

    html = responder_client.get(LIST, {"status": "closed"}).content.decode()
    assert closed_p3.title in html
    assert triggered_p1.title not in html


def test_it_filters_by_status_and_severity(responder_client, triggered_p1):
    shown = responder_client.get(LIST, {"status": "triggered", "severity": "P1"})
    hidden = responder_client.get(LIST, {"status": "triggered", "severity": "P3"})

    assert triggered_p1.title in shown.content.decode()
    assert triggered_p1.title not in hidden.content.decode()
    assert "No incidents match this filter." in hidden.content.decode()


def test_it_keeps_the_other_filter_in_every_filter_link(responder_client, triggered_p1):
    html = responder_client.get(LIST, {"status": "triggered", "severity": "P1"}).content.decode()
    # The severity links keep status=triggered and the status links keep severity=P1; each is
    # a real link and an htmx request.
    assert 'href="/?status=triggered&amp;severity=P3" hx-get="/?status=triggered&amp;severity=P3"' in html
    assert 'href="/?status=all&amp;severity=P1" hx-get="/?status=all&amp;severity=P1"' in html


def test_it_answers_an_unknown_filter_with_400_and_the_reason(responder_client, triggered_p1):
    response = responder_client.get(LIST, {"severity": "P9"})
    assert response.status_code == 400
    assert "Unknown severity: P9." in response.content.decode()

    response = responder_client.get(LIST, {"status": "sleeping"})
    assert response.status_code == 400
    assert "Unknown status: sleeping." in response.content.decode()


def test_it_answers_htmx_with_only_the_self_refreshing_rows(responder_client, triggered_p1):
    response = responder_client.get(LIST, {"severity": "P1"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="incident-rows"')
    assert 'hx-get="/?severity=P1" hx-trigger="every 10s"' in html
    assert triggered_p1.title in html
    assert response["Vary"].count("HX-Request") == 1


def test_it_serves_the_whole_page_to_an_htmx_history_restore(responder_client, triggered_p1):
    response = responder_client.get(LIST, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_it_gives_each_open_incident_a_countdown_to_its_next_deadline(responder_client, triggered_p1, p3, responder):
    acked = lifecycle.incident_open(title="Disk filling", severity=p3, source=Source.WEB, actor=responder)
    lifecycle.incident_acknowledge(incident=acked, actor=responder, source=Source.WEB)

    html = responder_client.get(LIST).content.decode()

    # Response deadline while triggered, resolution deadline once acknowledged.
    response_due = triggered_p1.response_due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    resolve_due = acked.resolve_due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert f'data-deadline="{response_due}' in html
    assert f'data-deadline="{resolve_due}' in html
    assert "is-breached" not in html


def test_it_marks_an_incident_with_a_recorded_breach_red(responder_client, p1, responder):
    late = lifecycle.incident_open(title="Nobody answered", severity=p1, source=Source.WEB, actor=responder,
                                   opened_at=timezone.now() - timedelta(minutes=20))
    sla_record_breaches()

    html = responder_client.get(LIST).content.decode()

    row = html[html.index(late.title) - 600: html.index(late.title) + 1200]
    assert "is-breached" in row
    assert "data-breached" in row
