"""Incident messages reach Slack as a root message, one thread reply per flush and an updated root,
checked on the Slack contract server (what Slack would show), not on mocks."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Service, Severity, Source
from incidents.notifications import outbox
from incidents.notifications.models import Conversation, Delivery
from tests.contracts.slack import DEFAULT_CHANNEL_ID, SlackContractServer

from .conftest import flush_all, statuses

pytestmark = pytest.mark.django_db
C = DEFAULT_CHANNEL_ID


def _texts(message: dict, *, kinds: tuple[str, ...] = ("mrkdwn", "plain_text")) -> str:  # type: ignore[type-arg]
    """The message's text as Slack reads it: the fallback and every text object of ``kinds``
    (Slack parses markup, mentions and links only in the fallback and mrkdwn)."""
    parts = [message["text"]]

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if value.get("type") in kinds and isinstance(value.get("text"), str):
                parts.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message["blocks"])
    walk(message["attachments"])
    return "\n".join(parts)


def test_it_posts_one_root_then_replies_in_its_thread_and_updates_the_root(
    p3: Severity, responder, slack_server: SlackContractServer
) -> None:
    service = Service.objects.create(name="checkout")
    incident = lifecycle.incident_open(title="Checkout returns 502", severity=p3, service=service,
                                       source=Source.WEB)
    assert flush_all() == 1
    [root] = slack_server.roots(C)
    assert root["blocks"][0]["text"]["text"] == f"P3 · #{incident.pk} Checkout returns 502"
    card = _texts(root)
    for expected in ("*Status*\nTriggered", "*Service*\ncheckout", "*Commander*\nnot assigned",
                     "*Acknowledge by*", "*Resolve by*", "INCIDENT ALERT - P3"):
        assert expected in card
    assert root["attachments"][0]["color"] == p3.colour
    buttons = root["attachments"][0]["blocks"][-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Acknowledge", "Resolve", "Open in Opsportal"]
    assert buttons[2]["url"].endswith(f"/incidents/{incident.pk}/")
    conversation = Conversation.objects.get(incident=incident, channel="slack")
    assert conversation.external_ref == f"{C}:{root['ts']}"
    assert conversation.external_url == f"https://opsportal-test.slack.com/archives/{C}/p{root['ts'].replace('.', '')}"

    lifecycle.incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    lifecycle.incident_add_note(incident=incident, text="Rolled back 4.2.1", actor=responder, source=Source.WEB)
    assert flush_all() == 2

    [reply] = slack_server.replies(C, root["ts"])
    assert "Acknowledged by responder" in reply["text"] and "Rolled back 4.2.1" in reply["text"]
    [root] = slack_server.roots(C)
    assert len(root["updates"]) == 1, "the root was updated in place, not posted again"
    assert "*Status*\nAcknowledged" in _texts(root)
    assert [b["text"]["text"] for b in root["attachments"][0]["blocks"][-1]["elements"]] == [
        "Resolve", "Open in Opsportal"]
    assert statuses() == [("opened", C, "sent"), ("acknowledged", C, "sent"), ("note", C, "sent")]


def test_a_burst_of_30_alert_events_costs_at_most_three_calls(
    p3: Severity, slack_server: SlackContractServer
) -> None:
    incident = lifecycle.incident_open(title="Disk filling", severity=p3, source=Source.ALERTMANAGER)
    flush_all()
    before = len(slack_server.state.calls)
    for n in range(30):
        lifecycle.record_event(incident, "alerts", actor=None, source=Source.ALERTMANAGER,
                               message=f"1 alert firing: db-{n}.", data={"counts": {"joined": 1}})
    assert flush_all() == 30

    calls = [name for name, _ in slack_server.state.calls[before:]]
    assert calls == ["chat.postMessage", "chat.update"]
    [root] = slack_server.roots(C)
    [reply] = slack_server.replies(C, root["ts"])
    assert reply["text"].startswith("🔔 30 more alerts joined:")
    assert "db-0" in reply["text"] and "db-29" in _texts(reply)


def test_alert_text_cannot_mention_link_or_inject_markup(p3: Severity, slack_server: SlackContractServer) -> None:
    hostile = "<!channel> <@U123> <script>alert(1)</script> Tom & Jerry [click](https://evil.example) <https://evil.example|ok>"
    incident = lifecycle.incident_open(title=hostile[:200], severity=p3, source=Source.WEB)
    lifecycle.incident_add_note(incident=incident, text=hostile, actor=None, source=Source.WEB)
    flush_all()

    [root] = slack_server.roots(C)
    [reply] = slack_server.replies(C, root["ts"])
    assert root["blocks"][0]["text"]["type"] == "plain_text", "the header is shown as typed, never parsed"
    for message in (root, reply):
        text = _texts(message, kinds=("mrkdwn",))
        for forbidden in ("<!channel>", "<@U123>", "<script>", "<https://evil.example|ok>"):
            assert forbidden not in text
        assert "&lt;!channel&gt;" in text and "Tom &amp; Jerry" in text
        # Every <...> Slack would parse (a link, a mention) is one we built: the incident's URL.
        assert {token.split("|")[0] for token in re.findall(r"<([^<>]*)>", text)} <= {
            f"http://127.0.0.1:8000/incidents/{incident.pk}/"}
    assert "&lt;script&gt;" in reply["text"]


def test_429_is_retried_after_retry_after(p3: Severity, slack_server: SlackContractServer) -> None:
    lifecycle.incident_open(title="Checkout down", severity=p3, source=Source.WEB)
    slack_server.fail_next(status=429, retry_after=30, method="chat.postMessage")

    assert flush_all() == 0
    delivery = Delivery.objects.get(channel="slack")
    assert delivery.status == "failed" and "429" in delivery.last_error
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=29)
    assert slack_server.roots(C) == []

    assert flush_all() == 0, "not before Retry-After"
    assert flush_all(now=timezone.now() + timedelta(seconds=31)) == 1
    assert len(slack_server.roots(C)) == 1
    assert statuses() == [("opened", C, "sent")]


def test_channel_not_found_is_dead_at_once(p3: Severity, slack_server: SlackContractServer, settings) -> None:
    settings.SLACK_DEFAULT_CHANNEL = "C0GONE"
    lifecycle.incident_open(title="Checkout down", severity=p3, source=Source.WEB)
    flush_all()
    delivery = Delivery.objects.get(channel="slack")
    assert delivery.status == "dead" and delivery.attempts == 1
    assert "channel_not_found" in delivery.last_error


def test_slack_down_then_back_delivers_each_message_once_in_order(
    p3: Severity, slack_server: SlackContractServer
) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p3, source=Source.WEB)
    slack_server.stop()
    lifecycle.incident_add_note(incident=incident, text="first", actor=None, source=Source.WEB)
    assert flush_all() == 0
    lifecycle.incident_add_note(incident=incident, text="second", actor=None, source=Source.WEB)
    assert flush_all() == 0
    assert {s for _, _, s in statuses()} == {"failed", "pending"}

    slack_server.start()
    later = timezone.now() + timedelta(minutes=10)
    assert flush_all(now=later) == 3
    assert flush_all(now=later + timedelta(minutes=10)) == 0
    [root] = slack_server.roots(C)
    [reply] = slack_server.replies(C, root["ts"])
    assert reply["text"].index("first") < reply["text"].index("second")
    assert len(slack_server.calls_to("chat.postMessage")) == 2


def test_a_full_channel_waits_for_its_rate_limit(
    p3: Severity, slack_server: SlackContractServer, settings
) -> None:
    settings.SLACK_CHANNEL_BURST = 1
    slack_server.enforce_rate, slack_server.rate_burst = True, 1
    first = lifecycle.incident_open(title="One", severity=p3, source=Source.WEB)
    second = lifecycle.incident_open(title="Two", severity=p3, source=Source.WEB)
    flush_all()

    assert len(slack_server.roots(C)) == 1 and not [e for e in slack_server.state.refused if e[1] == "ratelimited"]
    waiting = Conversation.objects.get(incident=second, channel="slack")
    assert Delivery.objects.get(incident=second, channel="slack").status == "pending"
    assert waiting.next_send_at is not None and waiting.next_send_at > timezone.now()
    assert Delivery.objects.get(incident=first, channel="slack").status == "sent"


def test_incidents_opened_at_once_into_one_channel_get_a_slot_each_and_go_out_at_it(
    p3: Severity, slack_server: SlackContractServer, settings
) -> None:
    """Before, every waiting incident was told the same instant, and each time all of them asked
    again for the one free slot: 20 incidents made 200 flushes that sent nothing."""
    settings.SLACK_CHANNEL_BURST, settings.SLACK_CHANNEL_MESSAGES_PER_SECOND = 1, 20.0
    # Slack lets a message through a few milliseconds early (as here, burst 2); the app keeps to 1.
    slack_server.enforce_rate, slack_server.rate_burst, slack_server.rate_per_second = True, 2, 20.0
    for n in range(5):
        lifecycle.incident_open(title=f"Node {n} down", severity=p3, source=Source.WEB)
    assert flush_all() == 1
    waits = sorted(at for at in Conversation.objects.filter(channel="slack", deliveries__status="pending")
                   .values_list("next_send_at", flat=True) if at is not None)
    assert len(waits) == 4
    assert all(0.04 <= (later - earlier).total_seconds() <= 0.06 for earlier, later in zip(waits, waits[1:], strict=False))
    for at in waits:  # each flush at its slot sends, and nobody is turned away again
        time.sleep(max(0.0, (at - timezone.now()).total_seconds()))
        assert flush_all() == 1
    assert len(slack_server.roots(C)) == 5
    assert not [e for e in slack_server.state.refused if e[1] == "ratelimited"]


def _open_and_flush(title: str, severity: Severity) -> int:
    """Open an incident and flush its Slack conversation (only it: the others wait for their slots)."""
    incident = lifecycle.incident_open(title=title, severity=severity, source=Source.WEB)
    return outbox.conversation_flush(Conversation.objects.get(incident=incident, channel="slack", target=C).pk)


def _send_at_slots() -> None:
    """Flush each waiting conversation when its slot comes, in slot order, as the sweep would."""
    while True:
        waits = sorted(at for at in Conversation.objects.filter(channel="slack", deliveries__status="pending")
                       .values_list("next_send_at", flat=True) if at is not None)
        if not waits:
            return
        time.sleep(max(0.0, (waits[0] - timezone.now()).total_seconds()))
        assert flush_all() >= 1


def _root_titles(server: SlackContractServer) -> list[str]:
    """The incidents announced in the channel, in the order Slack got them ("P4 · #12 Title")."""
    return [r["blocks"][0]["text"]["text"].split(" ", 3)[-1] for r in server.roots(C)]


@pytest.fixture
def fast_pace(slack_server: SlackContractServer, settings) -> SlackContractServer:
    """A slot every half second, no burst, and Slack refusing anything faster: each incident's
    first flush takes its place in the queue long before the slots ahead of it come."""
    settings.SLACK_CHANNEL_BURST, settings.SLACK_CHANNEL_MESSAGES_PER_SECOND = 1, 2.0
    slack_server.enforce_rate, slack_server.rate_burst, slack_server.rate_per_second = True, 2, 2.0
    return slack_server


def test_a_p1_opened_behind_waiting_p4_incidents_is_posted_next(
    severities: dict[str, Severity], fast_pace: SlackContractServer
) -> None:
    assert [_open_and_flush(f"Queue {n} slow", severities["P4"]) for n in range(4)] == [1, 0, 0, 0]
    assert _open_and_flush("Checkout down", severities["P1"]) == 0, "the P1 waits too, but for the next slot"
    _send_at_slots()

    assert _root_titles(fast_pace) == ["Queue 0 slow", "Checkout down", "Queue 2 slow", "Queue 3 slow", "Queue 1 slow"]
    assert not [e for e in fast_pace.state.refused if e[1] == "ratelimited"], "the pace is kept"


def test_each_severity_goes_ahead_of_the_less_severe_ones(
    severities: dict[str, Severity], fast_pace: SlackContractServer
) -> None:
    """One slot changes hands per severity: the conversation a more severe one moved goes to the
    back of its own severity, behind its peers (each arrival costs a few updates, not one per
    waiting conversation)."""
    for title, name in (("First", "P4"), ("Disk A", "P4"), ("Disk B", "P4"), ("Latency", "P3"), ("Errors", "P3"),
                        ("Payments", "P2")):
        _open_and_flush(title, severities[name])
    _send_at_slots()

    assert _root_titles(fast_pace) == ["First", "Payments", "Errors", "Latency", "Disk B", "Disk A"]
    assert not [e for e in fast_pace.state.refused if e[1] == "ratelimited"]


def test_a_waiting_conversation_retried_by_hand_keeps_its_time_when_a_p1_arrives(
    severities: dict[str, Severity], fast_pace: SlackContractServer
) -> None:
    """A conversation whose time someone changed meanwhile is not moved: the P1 takes the next one."""
    for n in range(3):
        _open_and_flush(f"Queue {n} slow", severities["P4"])
    first_waiting = Conversation.objects.get(incident__title="Queue 1 slow", channel="slack")
    assert first_waiting.next_send_at is not None
    Conversation.objects.filter(pk=first_waiting.pk).update(next_send_at=first_waiting.next_send_at
                                                             + timedelta(microseconds=1))
    _open_and_flush("Checkout down", severities["P1"])
    _send_at_slots()

    assert _root_titles(fast_pace) == ["Queue 0 slow", "Queue 1 slow", "Checkout down", "Queue 2 slow"]


def test_an_alert_storm_costs_an_incident_three_slack_calls_at_most(
    p3: Severity, slack_server: SlackContractServer, settings
) -> None:
    settings.NOTIFY_COALESCE_SECONDS = 3.0
    incident = lifecycle.incident_open(title="Disk filling", severity=p3, source=Source.ALERTMANAGER)
    lifecycle.record_event(incident, "alerts", actor=None, source=Source.ALERTMANAGER,
                           message="2 alerts firing: db-1, db-2.", data={"counts": {"joined": 2}})
    assert flush_all() == 2, "the root message carries the alerts that opened the incident"
    for n in range(30):
        lifecycle.record_event(incident, "alerts", actor=None, source=Source.ALERTMANAGER,
                               message=f"1 alert firing: db-{n + 3}.", data={"counts": {"joined": 1}})
    assert flush_all() == 0, "the storm's updates wait for the quiet time after the root"
    assert flush_all(now=timezone.now() + timedelta(seconds=4)) == 30

    messages = [(name, args) for name, args in slack_server.state.calls if name in ("chat.postMessage", "chat.update")]
    assert [name for name, _ in messages] == ["chat.postMessage", "chat.postMessage", "chat.update"]
    assert "2 alerts firing" in json.dumps(messages[0][1]), "the root shows the alerts that opened it"


def test_a_channel_keeps_the_soonest_waiting_conversations_and_still_serves_a_p1_first(
    severities: dict[str, Severity], fast_pace: SlackContractServer, monkeypatch
) -> None:
    from incidents.integrations.slack import pace
    from incidents.integrations.slack.models import SlackChannelPace

    monkeypatch.setattr(pace, "QUEUE_MAX", 3)
    for n in range(6):
        _open_and_flush(f"Queue {n} slow", severities["P4"])
    assert len(SlackChannelPace.objects.get(channel=C).queue) == 3
    _open_and_flush("Checkout down", severities["P1"])
    assert len(SlackChannelPace.objects.get(channel=C).queue) == 3
    _send_at_slots()

    titles = _root_titles(fast_pace)
    assert titles[:2] == ["Queue 0 slow", "Checkout down"] and len(titles) == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_reserving_slots_at_once_each_get_their_own(settings) -> None:
    """Eight workers asking for the same channel at the same moment: one may send now (no burst),
    the others are handed slots one interval apart, none shared, none lost."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from incidents.integrations.slack.pace import pace_reserve

    settings.SLACK_CHANNEL_BURST, settings.SLACK_CHANNEL_MESSAGES_PER_SECOND = 1, 10.0
    now = timezone.now()
    pace_reserve("C0CONCURRENT", now=now - timedelta(seconds=60))  # the channel's row exists, its time long past

    def reserve(_: int) -> object:
        try:
            return pace_reserve("C0CONCURRENT", now=now)
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        slots = list(pool.map(reserve, range(8)))
    assert slots.count(None) == 1
    waits = sorted((slot - now).total_seconds() for slot in slots if slot is not None)  # type: ignore[operator]
    assert waits == pytest.approx([0.1 * n for n in range(1, 8)])
