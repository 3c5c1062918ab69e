"""A P1 gets a channel of its own (created, topic set, people invited) besides the default channel."""

from __future__ import annotations

import pytest

from incidents import lifecycle
from incidents.integrations.slack import invites
from incidents.integrations.slack.models import SlackInvite
from incidents.models import Service, Severity, Source
from incidents.notifications.models import Conversation
from tests.contracts.slack import DEFAULT_CHANNEL_ID, SlackContractServer

from .conftest import flush_all

pytestmark = pytest.mark.django_db


def test_a_p1_gets_its_own_channel_with_a_topic_and_the_default_channel_too(
    p1: Severity, responder, slack_server: SlackContractServer
) -> None:
    slack_server.add_user("U0ALICE", "responder@example.com")
    incident = lifecycle.incident_open(title="Checkout returns 502!", severity=p1, source=Source.WEB,
                                       service=Service.objects.create(name="Checkout"))
    invites.slack_invite(incident, [responder.pk])
    flush_all()

    name = f"inc-{incident.pk}-checkout-checkout-returns-502"
    channel = slack_server.channel_by_name(name)
    assert channel is not None, slack_server.state.channels
    assert channel["topic"].startswith("P1 Checkout returns 502! · Triggered · http")
    assert channel["members"] == ["U0ALICE"]
    assert SlackInvite.objects.get().invited_at is not None
    assert len(slack_server.roots(channel["id"])) == 1
    assert len(slack_server.roots(DEFAULT_CHANNEL_ID)) == 1
    targets = set(Conversation.objects.filter(incident=incident, channel="slack").values_list("target", flat=True))
    assert targets == {DEFAULT_CHANNEL_ID, f"incident-channel:{name}"}

    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    flush_all()
    assert len(slack_server.calls_to("conversations.create")) == 1, "the channel is made once"
    [root] = slack_server.roots(channel["id"])
    assert len(slack_server.replies(channel["id"], root["ts"])) == 1 and len(root["updates"]) == 1


def test_a_p3_gets_no_channel_of_its_own(p3: Severity, slack_server: SlackContractServer) -> None:
    lifecycle.incident_open(title="Slow", severity=p3, source=Source.WEB)
    flush_all()
    assert slack_server.calls_to("conversations.create") == []
    assert len(slack_server.roots(DEFAULT_CHANNEL_ID)) == 1


def test_a_taken_channel_name_gets_a_second_name(p1: Severity, slack_server: SlackContractServer) -> None:
    incident = lifecycle.incident_open(title="Down", severity=p1, source=Source.WEB)
    slack_server.add_channel(f"inc-{incident.pk}-down")
    flush_all()
    [created] = [c for c in slack_server.state.channels.values()
                 if c["name"].startswith(f"inc-{incident.pk}-down-")]
    assert len(slack_server.roots(created["id"])) == 1
