"""The payload builder keeps every message within Slack's limits (checked with slack_sdk's own
validators, as the contract server does)."""

from __future__ import annotations

import re

import pytest

from incidents.integrations.slack import blocks
from tests.contracts.slack import SlackRefusal, validate_blocks

INCIDENT = {
    "id": 42, "title": "x" * 200, "status": "triggered", "status_label": "Triggered", "severity": "P1",
    "severity_label": "Critical", "severity_colour": "#dc2626", "service": "s" * 100, "commander": "alice",
    "url": "https://ops.example/incidents/42/", "opened_at": "2026-11-23T09:03:06+00:00", "source": "web",
    "response_due_at_text": "2026-11-23 09:18 UTC", "resolve_due_at_text": "2026-11-23 10:03 UTC",
}


def test_the_root_message_stays_within_limits() -> None:
    message = blocks.root_message(INCIDENT, fallback="y" * 10_000, latest="z" * 5000)
    assert len(message["text"]) < 4000
    assert len(message["blocks"][0]["text"]["text"]) <= 150
    validate_blocks(message["blocks"], limit=50)
    validate_blocks(message["attachments"][0]["blocks"], limit=50)


def test_a_huge_burst_becomes_one_valid_reply() -> None:
    updates = [blocks.Update("note", f"📝 {n}: " + "w" * 2500) for n in range(40)]
    updates += [blocks.Update("alerts", f"🔔 1 alert firing: db-{n}.", {"joined": 1}) for n in range(500)]
    reply = blocks.thread_reply(updates, incident_url=str(INCIDENT["url"]))
    validate_blocks(reply["blocks"], limit=50)
    assert len(reply["text"]) < 4000
    assert sum(len(b["text"]["text"]) for b in reply["blocks"]) <= blocks.REPLY_BODY_MAX + 200
    assert "more updates: see <https://ops.example/incidents/42/|the incident timeline>" in reply["blocks"][-1]["text"]["text"]


def test_the_contract_server_refuses_what_slack_refuses() -> None:
    with pytest.raises(SlackRefusal):
        validate_blocks([{"type": "actions", "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}]}], limit=50)
    with pytest.raises(SlackRefusal):
        validate_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "c" * 3001}}], limit=50)


def test_cutting_never_leaves_half_an_entity_or_link() -> None:
    assert blocks.cut("ab &amp; cd", 6) == "ab …"
    assert blocks.cut("see <https://a.example|here> now", 12) == "see …"


@pytest.mark.parametrize("title", ["Checkout returns 502 for EU users!", "ÉCHEC: paiement", "x" * 300, "...."])
def test_channel_names_follow_slacks_rules(title: str) -> None:
    name = blocks.channel_name({"id": 42, "title": title, "service": "Checkout"})
    assert re.fullmatch(r"inc-42(-[a-z0-9_-]+)?", name) and len(name) <= 80
