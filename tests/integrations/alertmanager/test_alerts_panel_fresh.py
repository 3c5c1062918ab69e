"""The alerts table and the timeline are rendered once per version of what they show and reused
(opsportal/lib/fragments.py): every webhook and every note still shows on the very next page load."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from incidents import lifecycle
from incidents.models import Incident, Source

from .webhook_support import (
    Hook,
    alert,
    hook,  # noqa: F401 - a fixture, used by name
    payload,
)

pytestmark = pytest.mark.django_db


def rows(html: str) -> dict[str, str]:
    """instance -> the row's status and summary, as the table shows them."""
    found = re.findall(r'<tr data-testid="alert-row">\s*<td><span class="badge am-state-\w+">(\w+)</span></td>.*?'
                       r'<span class="chip-k">instance</span><span class="chip-v">([^<]+)</span>.*?'
                       r'<p class="am-ann"><strong>([^<]*)</strong>', html, re.S)
    return {instance: f"{status}: {summary}" for status, instance, summary in found}


def test_each_webhook_and_note_shows_on_the_next_page_load(responder_client: Client, hook: Hook) -> None:  # noqa: F811
    assert hook.post(payload([alert("web-1:8080"), alert("web-2:8080")])).status_code == 200
    incident = Incident.objects.get()
    page = f"/incidents/{incident.pk}/"
    html = responder_client.get(page).content.decode()
    assert rows(html) == {"web-1:8080": "Firing: HighErrorRate on web-1:8080",
                          "web-2:8080": "Firing: HighErrorRate on web-2:8080"}
    assert rows(responder_client.get(page).content.decode()) == rows(html)  # the same, reused

    resolved = alert("web-1:8080", status="resolved", ends_at="2026-11-23T09:13:06Z")
    changed = alert("web-2:8080")
    changed["annotations"]["summary"] = "Still failing after the restart"
    assert hook.post(payload([resolved, changed])).status_code == 200
    html = responder_client.get(page).content.decode()
    assert rows(html) == {"web-1:8080": "Resolved: HighErrorRate on web-1:8080",
                          "web-2:8080": "Firing: Still failing after the restart"}
    assert re.search(r'alerts-count-resolved">Resolved <strong>1</strong>', html)

    lifecycle.incident_add_note(incident=incident, text="Rolled back the deploy", actor=None, source=Source.API)
    assert "Rolled back the deploy" in responder_client.get(page).content.decode()
    # A view of its own (the firing ones) is its own fragment.
    firing = responder_client.get(page, {"alerts_state": "firing"}).content.decode()
    assert list(rows(firing)) == ["web-2:8080"]


def test_a_repeated_post_shows_on_the_next_poll_and_an_unchanged_poll_counts_nothing(
    responder_client: Client, hook: Hook  # noqa: F811
) -> None:
    body = payload([alert("web-1:8080")])
    assert hook.post(body).status_code == 200
    incident = Incident.objects.get()
    html = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    poll = re.search(r'<div id="alerts-body" hx-get="([^"]+)"', html)
    assert poll is not None and "1×" in html
    url = poll.group(1).replace("&amp;", "&")
    assert responder_client.get(url, headers={"HX-Request": "true"}).status_code == 204

    assert hook.post(body).status_code == 200  # Alertmanager's repeat: nothing new but the time seen
    redrawn = responder_client.get(url, headers={"HX-Request": "true"})
    assert redrawn.status_code == 200 and "2×" in redrawn.content.decode()
