"""An incident commander's path through the web UI in a real browser: countdowns tick, actions
swap the page in place, and a phone-width screen never scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import lifecycle
from incidents.models import Incident, Service, Source

from .conftest import NewPage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("severities"),
]


def test_it_runs_an_incident_from_declare_to_resolve_without_reloading(signed_in_page, live_server):
    page = signed_in_page

    page.get_by_role("link", name="Declare incident").first.click()
    page.fill("input[name=title]", "Checkout returns 502 for EU users")
    page.locator("label.severity-option", has_text="P1").click()
    page.get_by_role("button", name="Declare incident").click()
    page.wait_for_url(f"{live_server.url}/incidents/*/")
    incident = Incident.objects.get()
    assert incident.source == Source.WEB

    # The response countdown ticks in the browser, without asking the server.
    countdown = page.get_by_test_id("countdown-response")
    first = countdown.text_content()
    page.wait_for_function(
        "first => document.querySelector('[data-testid=countdown-response]').textContent !== first",
        arg=first, timeout=5000,
    )

    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("status")).to_have_text("Acknowledged")
    expect(page.locator("#timeline .ev-acknowledged")).to_contain_text("responder")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)

    page.fill("textarea[name=text]", "Rolled back deploy 2026.11.23-3.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline .ev-note")).to_contain_text("Rolled back deploy 2026.11.23-3.")
    expect(page.locator("textarea[name=text]")).to_have_value("")

    page.fill("input[name=note]", "Error rate back to baseline.")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("Resolved")
    expect(page.locator("#timeline .ev-resolved")).to_contain_text("Error rate back to baseline.")
    expect(page.get_by_text("MTTR")).to_be_visible()

    assert page.evaluate("window.stillTheSamePage") is True
    assert list(incident.events.values_list("kind", flat=True)) == ["opened", "acknowledged", "note", "resolved"]


def test_it_shows_why_an_action_was_refused(signed_in_page, live_server, p1, responder):
    incident = lifecycle.incident_open(title="Disk full on db-2", severity=p1, source=Source.WEB, actor=responder)
    page = signed_in_page
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")

    # Someone else resolves and closes it while this page is open.
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.API)
    lifecycle.incident_close(incident=incident, actor=responder, source=Source.API)
    page.get_by_role("button", name="Acknowledge").click()

    expect(page.get_by_role("alert")).to_contain_text(f"Cannot acknowledge incident #{incident.pk}: it is closed.")
    expect(page.get_by_test_id("status")).to_have_text("Closed")


def test_it_filters_the_list_in_place(signed_in_page, live_server, p1, p3, responder):
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB, actor=responder)
    lifecycle.incident_open(title="Slow search", severity=p3, source=Source.WEB, actor=responder)
    page = signed_in_page
    page.goto(f"{live_server.url}/")
    page.evaluate("window.stillTheSamePage = true")

    page.locator(".sev-filter").get_by_role("link", name="P3").click()

    expect(page.locator("#incident-rows")).not_to_contain_text("Checkout down")
    expect(page.locator("#incident-rows")).to_contain_text("Slow search")
    assert page.url == f"{live_server.url}/?severity=P3"
    assert page.evaluate("window.stillTheSamePage") is True


def test_it_fits_a_phone_screen_without_sideways_scrolling(new_page: NewPage, live_server, p1, p3, responder):
    service = Service.objects.create(name="payments-gateway-eu-west-1-primary", owner_team="payments")
    incidents = [
        lifecycle.incident_open(
            title="Checkout API returns 502 for EU users after deploy 2026.11.23-3 " * 2,
            severity=severity, service=service, source=Source.WEB, actor=responder,
            labels={"alertname": "HighErrorRate", "instance": "checkout-api-7f9c8b6d4-x2x9z:9090"},
            opened_at=timezone.now() - timedelta(hours=n * 5),
        )
        for n, severity in enumerate((p1, p3, p1))
    ]
    page = new_page(responder, viewport={"width": 375, "height": 740}, is_mobile=True)

    for path in ("/", f"/incidents/{incidents[0].pk}/", "/incidents/new"):
        page.goto(f"{live_server.url}{path}")
        width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= viewport, f"{path} is {width}px wide on a {viewport}px screen"


def test_it_goes_to_the_login_page_when_the_session_ended(signed_in_page, live_server):
    page = signed_in_page
    page.goto(f"{live_server.url}/")
    page.context.clear_cookies()

    page.locator(".tabs").get_by_role("link", name="Triggered").click()

    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    # A whole login page, not a login form swapped into the incident table.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", name="Incidents")).to_have_count(0)
    expect(page.locator(".topbar")).to_have_count(1)
