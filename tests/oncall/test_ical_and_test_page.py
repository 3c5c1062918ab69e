"""Calendar feeds parse with icalendar and hold the right shifts; a wrong token is a 404. The
test page goes through the outbox: one delivery per contact method, no incident, sent by the
channel (the Slack contract server receives the direct message)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import icalendar
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.integrations.slack.blocks import ACK_ACTION, RESOLVE_ACTION
from incidents.notifications import outbox
from incidents.notifications.models import Delivery
from incidents.oncall import services
from incidents.oncall.demo import seed_demo
from incidents.oncall.models import Schedule
from incidents.oncall.resolve import oncall_at
from incidents.oncall.services import LayerSpec
from incidents.registry import DemoContext
from tests.conftest import Login
from tests.contracts.slack import SlackContractServer

pytestmark = pytest.mark.django_db


def schedule(people: dict[str, User]) -> Schedule:
    start = timezone.now().replace(tzinfo=None, microsecond=0) - timedelta(days=1)
    return services.schedule_create(name="Primary", time_zone="Europe/London",
                                    layers=[LayerSpec("daily", start, ["alice", "bob"])])


def test_the_schedule_feed_parses_and_lists_its_shifts(people: dict[str, User]) -> None:
    found = schedule(people)
    answer = Client().get(f"/oncall/ical/schedule/{found.ical_token}.ics")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(answer.content)
    events = list(cal.walk("VEVENT"))
    assert 90 <= len(events) <= 99  # a week back and 90 days ahead of daily turns
    summaries = {str(e["summary"]) for e in events}
    assert summaries == {"On call: alice (Primary)", "On call: bob (Primary)"}
    assert len({str(e["uid"]) for e in events}) == len(events)
    for event in events:
        assert event.decoded("dtend") - event.decoded("dtstart") <= timedelta(hours=25)


def test_the_user_feed_holds_only_their_shifts(people: dict[str, User], login: Login) -> None:
    schedule(people)
    feed = services.calendar_feed_for(user=people["alice"])
    events = list(icalendar.Calendar.from_ical(Client().get(f"/oncall/ical/user/{feed.token}.ics").content).walk("VEVENT"))
    assert events and all("alice" in str(e["summary"]) for e in events)
    old = feed.token
    services.calendar_feed_rotate(user=people["alice"])
    assert Client().get(f"/oncall/ical/user/{old}.ics").status_code == 404


def test_a_wrong_token_is_a_404(people: dict[str, User]) -> None:
    schedule(people)
    assert Client().get("/oncall/ical/schedule/not-the-token.ics").status_code == 404
    assert Client().get("/oncall/ical/user/not-the-token.ics").status_code == 404


def test_a_test_page_goes_through_the_outbox_to_slack(login: Login, responder: User, slack_server: SlackContractServer,
                                                      django_capture_on_commit_callbacks: Any) -> None:
    # Slack takes a member id as the channel of a direct message (the contract server: a channel).
    slack_server.add_channel("responder-dm", channel_id="U0RESPOND")
    services.contact_method_create(user=responder, kind="slack", value="U0RESPOND")
    client = login(responder)
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post("/oncall/me/test-page").status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.incident is None
    assert (delivery.channel, delivery.target, delivery.status) == ("slack", "U0RESPOND", "pending")
    assert outbox.conversation_flush(delivery.conversation_id) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    posted = [c for c in slack_server.calls_to("chat.postMessage") if c.get("channel") == "U0RESPOND"]
    assert len(posted) == 1
    assert "Test page for responder" in str(posted[0])
    for action in (ACK_ACTION, RESOLVE_ACTION):  # a test is no incident: nothing to acknowledge
        assert action not in str(posted[0])
    # Shown on the user's page; a second press at once is refused rather than paging again.
    assert "Sent" in client.get("/oncall/me/").content.decode()
    client.post("/oncall/me/test-page")
    assert Delivery.objects.count() == 1


def test_a_test_page_needs_a_contact_method(login: Login, responder: User) -> None:
    page = login(responder).post("/oncall/me/test-page", follow=True)
    assert "Add a contact method first" in page.content.decode()
    assert not Delivery.objects.exists()


def test_the_demo_makes_the_weekly_primary_and_secondary_rotation(admin_user: User) -> None:
    now = timezone.now()
    seed_demo(DemoContext(admin=admin_user, services={}, now=now))
    primary, secondary = Schedule.objects.get(name="Primary on-call"), Schedule.objects.get(name="Secondary on-call")
    on_primary, on_secondary = oncall_at(primary, now), oncall_at(secondary, now)
    assert len(on_primary) == 1 and len(on_secondary) == 1
    assert on_primary != on_secondary
    assert oncall_at(primary, now + timedelta(days=7)) != on_primary  # weekly


def test_resolving_reads_the_rows_once(people: dict[str, User]) -> None:
    found = schedule(people)
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        oncall_at(found, timezone.now())
    assert len(queries) == 3  # layers, participants with their users, overrides with theirs
