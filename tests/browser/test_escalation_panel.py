"""The incident page's escalation panel in a real browser: what happens next, with a countdown
that ticks, "Escalate now" and an acknowledgement that change it in place, without a reload."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from incidents import lifecycle
from incidents.escalation import policies
from incidents.models import Source
from incidents.oncall.models import ContactMethod

from .conftest import LAPTOP, NewPage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("severities"),
]


def test_it_shows_what_happens_next_and_follows_escalate_now_and_acknowledge(
    new_page: NewPage, live_server, p1, responder
):
    for name in ("alice", "bob"):
        user = User.objects.create_user(name, f"{name}@example.com")
        ContactMethod.objects.create(user=user, kind="slack", value=f"U0{name.upper()}")
    policy = policies.policy_save(data={"name": "Payments", "repeat": 1, "levels": [
        {"delay_seconds": 0, "targets": [{"type": "user", "value": "alice"}]},
        {"delay_seconds": 600, "targets": [{"type": "user", "value": "bob"}]},
    ]})
    incident = lifecycle.incident_open(title="Payments down", severity=p1, source=Source.API,
                                       escalation_policy=policy)

    page = new_page(responder, viewport=LAPTOP)
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    page.evaluate("window.stillTheSamePage = true")  # gone if the page reloads
    panel = page.locator("#escalation")

    # The policy, the level reached, who was paged, and the next level: when, and whom it reaches.
    expect(panel.locator("h2")).to_contain_text("Payments · level 1")
    expect(panel.get_by_test_id("step-sent")).to_have_count(1)
    expect(panel.get_by_test_id("step-sent")).to_contain_text("alice")
    next_level = panel.get_by_test_id("next-level")
    expect(next_level).to_contain_text("Level 2 in")
    expect(next_level.locator("strong")).to_have_text("bob")
    first = next_level.locator(".countdown").text_content()
    assert first is not None and first.startswith(("10m", "9m"))
    page.wait_for_function(  # the countdown ticks in the browser
        "first => document.querySelector('#escalation .countdown').textContent !== first", arg=first, timeout=5000)

    panel.get_by_role("button", name="Escalate now").click()
    expect(panel.locator("h2")).to_contain_text("Payments · level 2")
    sent = panel.get_by_test_id("step-sent")
    expect(sent).to_have_count(2)
    expect(sent.nth(1)).to_contain_text("bob")
    expect(sent.nth(1)).to_contain_text("responder")  # who escalated
    # The timeline shows it too (it refreshes when a panel action adds an event).
    expect(page.locator("#timeline .ev-escalated", has_text="Escalated to level 2: bob")).to_have_count(1)
    # Next: the policy's repeat, from level 1 again.
    expect(panel.get_by_test_id("next-level")).to_contain_text("Level 1 in")
    expect(panel.get_by_test_id("next-level").locator("strong")).to_have_text("alice")

    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("Acknowledged")
    expect(panel).to_contain_text("Stopped: the incident is acknowledged.")
    expect(panel.get_by_test_id("next-level")).to_have_count(0)
    expect(panel.get_by_test_id("step-cancelled").first).to_contain_text("alice")
    expect(panel.get_by_test_id("step-pending")).to_have_count(0)

    assert page.evaluate("window.stillTheSamePage") is True
    if os.environ.get("SCREENSHOT_DIR"):
        panel.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "escalation-panel.png"))
    incident.refresh_from_db()
    assert (incident.escalation_level, incident.next_escalation_at) == (2, None)
