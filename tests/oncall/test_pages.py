"""On-call pages: who is on call now and next, the schedule page's htmx edits, inline override
errors, gap warnings, bounded rendering of very short rotations, permissions, and the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from incidents.oncall import services
from incidents.oncall.models import ContactMethod, Schedule
from incidents.oncall.services import LayerSpec
from tests.conftest import Login

pytestmark = pytest.mark.django_db


def make(people: dict[str, User], **layer: object) -> Schedule:
    spec = {"rotation": "weekly", "handoff": timezone.now().replace(tzinfo=None) - timedelta(days=1),
            "participants": ["alice", "bob"]} | layer
    return services.schedule_create(name="Primary", time_zone="UTC", layers=[LayerSpec(**spec)])  # type: ignore[arg-type]


def test_the_list_shows_who_is_on_call_now_and_next(responder_client: Client, people: dict[str, User]) -> None:
    make(people)
    page = responder_client.get("/oncall/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Primary" in text
    row = text[text.index("Primary"):]
    assert row.index("alice") < row.index("bob")  # alice now, bob next


def test_the_dashboard_and_nav_show_on_call(responder_client: Client, people: dict[str, User]) -> None:
    make(people)
    page = responder_client.get("/").content.decode()
    assert 'data-testid="oncall-now"' in page
    assert 'href="/oncall/"' in page
    assert "alice" in page[page.index('data-testid="oncall-now"'):]


def test_staff_edit_participants_with_htmx(staff_client: Client, people: dict[str, User]) -> None:
    schedule = make(people)
    layer = schedule.layers.get()
    url = f"/oncall/schedules/{schedule.pk}/layers/{layer.pk}/participants/"
    added = staff_client.post(url, {"username": "carol"}, HTTP_HX_REQUEST="true")
    assert added.status_code == 200
    assert 'id="layers"' in added.content.decode() and "<html" not in added.content.decode()
    assert list(layer.participants.order_by("position").values_list("user__username", flat=True)) == ["alice", "bob", "carol"]
    carol = layer.participants.get(user__username="carol")
    staff_client.post(f"{url}{carol.pk}/move", {"direction": "up"}, HTTP_HX_REQUEST="true")
    assert list(layer.participants.order_by("position").values_list("user__username", flat=True)) == ["alice", "carol", "bob"]
    alice = layer.participants.get(user__username="alice")
    staff_client.post(f"{url}{alice.pk}/remove", HTTP_HX_REQUEST="true")
    assert list(layer.participants.order_by("position").values_list("user__username", flat=True)) == ["carol", "bob"]
    unknown = staff_client.post(url, {"username": "mallory"}, HTTP_HX_REQUEST="true")
    assert unknown.status_code == 400
    assert "Unknown user &quot;mallory&quot;" in unknown.content.decode()


def test_an_override_error_is_shown_inline(staff_client: Client, people: dict[str, User]) -> None:
    schedule = make(people)
    answer = staff_client.post(f"/oncall/schedules/{schedule.pk}/overrides/", {
        "user": "carol", "starts_at": "2026-12-09T09:00", "ends_at": "2026-12-08T09:00"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 400
    assert "ends_at must be after starts_at" in answer.content.decode()
    assert not schedule.overrides.exists()
    ok = staff_client.post(f"/oncall/schedules/{schedule.pk}/overrides/", {
        "user": "carol", "starts_at": "2026-12-08T09:00", "ends_at": "2026-12-09T09:00"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200
    assert schedule.overrides.get().starts_at == datetime(2026, 12, 8, 9, tzinfo=UTC)


def test_a_layer_with_bad_input_is_refused_inline(staff_client: Client, people: dict[str, User]) -> None:
    schedule = make(people)
    answer = staff_client.post(f"/oncall/schedules/{schedule.pk}/layers/", {
        "rotation": "custom", "handoff": "2026-12-08T09:00", "participants": "alice"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 400
    assert "A custom rotation needs length_seconds" in answer.content.decode()
    assert schedule.layers.count() == 1


def test_gaps_are_warned_about(responder_client: Client, people: dict[str, User]) -> None:
    handoff = timezone.now().replace(tzinfo=None, microsecond=0) + timedelta(days=2)
    schedule = make(people, handoff=handoff)
    page = responder_client.get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    assert "Nobody on call" in page
    assert handoff.strftime("%a %-d %b %H:%M") in page


def test_a_one_minute_rotation_renders_a_bounded_page(responder_client: Client, people: dict[str, User]) -> None:
    # 4 weeks of one-minute turns: 40,320 shifts computed, a few per day shown.
    schedule = make(people, rotation="custom", length_seconds=60)
    page = responder_client.get(f"/oncall/schedules/{schedule.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('class="oncall-shift"') <= 28 * 6
    assert "… and 14" in text  # ~1,440 shifts a day, 6 listed
    assert len(text) < 200_000


def test_only_staff_change_schedules_on_pages(responder_client: Client, people: dict[str, User]) -> None:
    schedule = make(people)
    layer = schedule.layers.get()
    assert responder_client.get(f"/oncall/schedules/{schedule.pk}/").status_code == 200
    assert "Add a layer" not in responder_client.get(f"/oncall/schedules/{schedule.pk}/").content.decode()
    assert responder_client.post("/oncall/", {"name": "Mine", "time_zone": "UTC"}).status_code == 403
    assert responder_client.post(f"/oncall/schedules/{schedule.pk}/layers/{layer.pk}/participants/",
                                 {"username": "carol"}).status_code == 403
    assert responder_client.post(f"/oncall/schedules/{schedule.pk}/delete").status_code == 403
    assert Client().get("/oncall/").status_code == 302  # to the login page


def test_a_user_manages_only_their_own_contact_methods(login: Login, responder: User, other_responder: User) -> None:
    mine = login(responder)
    assert mine.post("/oncall/me/", {"kind": "email", "value": "nope"}).status_code == 400
    assert mine.post("/oncall/me/", {"kind": "email", "value": "responder@example.com"}).status_code == 302
    method = ContactMethod.objects.get(user=responder)
    theirs = login(other_responder)
    assert theirs.post(f"/oncall/me/contact-methods/{method.pk}/delete").status_code == 404
    assert theirs.post(f"/oncall/me/contact-methods/{method.pk}/verify").status_code == 404
    assert mine.post(f"/oncall/me/contact-methods/{method.pk}/verify").status_code == 302
    method.refresh_from_db()
    assert method.verified


def test_staff_create_a_schedule_with_a_bad_zone_refused(staff_client: Client) -> None:
    bad = staff_client.post("/oncall/", {"name": "Ops", "time_zone": "Europe/Londn"})
    assert bad.status_code == 400
    assert "Unknown time zone" in bad.content.decode()
    good = staff_client.post("/oncall/", {"name": "Ops", "time_zone": "Europe/London"})
    assert good.status_code == 302
    assert Schedule.objects.get().time_zone == "Europe/London"
