"""Each escalation is told in the incident's Slack thread, on top of paging the level's targets,
checked on the Slack contract server: what the channel and the paged person would see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import lifecycle
from incidents.escalation.engine import escalation_tick
from incidents.escalation.snapshot import Target
from incidents.models import EventKind, Incident, Source
from incidents.notifications.models import Delivery
from tests.contracts.slack import DEFAULT_CHANNEL_ID, SlackContractServer
from tests.integrations.slack.conftest import flush_all

pytestmark = pytest.mark.django_db
C = DEFAULT_CHANNEL_ID  # where incidents are routed (SLACK_DEFAULT_CHANNEL)
ALICE = {"type": "user", "value": "alice"}
BOB = {"type": "user", "value": "bob"}


def _open(severity, policy) -> Incident:
    """Opened a level's delay ago, so level 2 is due now."""
    return lifecycle.incident_open(title="Payments down", severity=severity, source=Source.API,
                                   escalation_policy=policy, opened_at=timezone.now() - timedelta(seconds=300))


def _escalation_targets(incident: Incident, level: int) -> list[str]:
    event = incident.events.get(kind=EventKind.ESCALATED, data__level=level)
    return sorted(Delivery.objects.filter(event=event, channel="slack").values_list("target", flat=True))


def test_a_level_paging_alice_dms_her_and_replies_once_in_the_incident_thread(
    p3, alice, bob, make_policy, slack_server: SlackContractServer
) -> None:
    for user_id, name in (("U0ALICE", "alice"), ("U0BOB", "bob")):
        slack_server.add_user(user_id, f"{name}@example.com", name=name)
    incident = _open(p3, make_policy((0, [BOB]), (300, [ALICE])))
    flush_all()
    [root] = slack_server.roots(C)
    [level_1] = slack_server.replies(C, root["ts"])
    assert "Escalated to level 1: bob" in level_1["text"]

    assert escalation_tick() == [(incident.pk, 2)]
    flush_all()

    # Alice is paged in her direct messages: the incident's card, with the button to acknowledge.
    [page] = slack_server.roots(slack_server.dm("U0ALICE"))
    assert page["text"].startswith("📣 Escalated to level 2: alice")
    buttons = [b["action_id"] for b in page["attachments"][0]["blocks"][-1]["elements"] if "action_id" in b]
    assert "incident_acknowledge" in buttons
    # The channel's thread gets one reply for level 2, and the root shows it as the latest news.
    replies = slack_server.replies(C, root["ts"])
    assert len(replies) == 2
    assert "Escalated to level 2: alice" in replies[1]["text"]
    [root] = slack_server.roots(C)
    assert "Latest: 📣 Escalated to level 2: alice" in str(root["attachments"])
    assert _escalation_targets(incident, 2) == [C, "U0ALICE"]
    assert slack_server.roots(slack_server.dm("U0BOB")), "bob was paged by level 1"
    assert not slack_server.roots(C)[1:], "one root message for the incident in its channel"

    # A page by hand is told in the thread too.
    lifecycle.incident_page(incident=incident, target=Target("user", "bob"), actor=None, source=Source.WEB)
    flush_all()
    assert "Paged bob" in slack_server.replies(C, root["ts"])[-1]["text"]


def test_a_level_naming_the_incident_channel_replies_there_exactly_once(
    p3, make_policy, slack_server: SlackContractServer
) -> None:
    incident = _open(p3, make_policy((0, [{"type": "slack_channel", "value": C}])))
    flush_all()
    [root] = slack_server.roots(C)
    [reply] = slack_server.replies(C, root["ts"])
    assert "Escalated to level 1: Slack C0INCIDENTS" in reply["text"]
    assert _escalation_targets(incident, 1) == [C]
    assert len(slack_server.calls_to("chat.postMessage")) == 2  # the root and that one reply
