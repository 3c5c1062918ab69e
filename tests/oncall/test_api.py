"""The schedules API contract: the exact shapes integrators script against, and every bad input
answered 400 naming the field (never a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from incidents.oncall.models import Schedule

pytestmark = pytest.mark.django_db

PRIMARY = {"name": "Primary", "time_zone": "Europe/London", "layers": [
    {"rotation": "weekly", "handoff": "2026-11-30T09:00:00", "participants": ["alice", "bob"]}]}


def create(api: APIClient, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/schedules/", body, format="json")


def test_it_creates_a_schedule_and_answers_who_is_on_call(staff_api: APIClient, people: dict[str, User]) -> None:
    answer = create(staff_api, PRIMARY)
    assert answer.status_code == 201, answer.json()
    schedule_id = answer.json()["id"]
    assert answer.json()["layers"][0] | {"id": None} == {
        "id": None, "name": "", "order": 0, "rotation": "weekly", "length_seconds": 604800,
        "handoff": "2026-11-30T09:00:00", "participants": ["alice", "bob"]}
    oncall = staff_api.get(f"/api/v1/schedules/{schedule_id}/oncall/", {"at": "2026-12-08T10:00:00Z"})
    assert oncall.status_code == 200
    body = oncall.json()
    assert body["users"] == ["bob"]
    assert body["at"].startswith("2026-12-08T10:00:00")
    assert body["next_users"] == ["alice"]
    assert body["next_at"].startswith("2026-12-14T09:00:00")
    # Without an offset, `at` is read in the schedule's zone (London summer: BST).
    summer = staff_api.get(f"/api/v1/schedules/{schedule_id}/oncall/", {"at": "2027-06-07T08:30:00"}).json()
    assert summer["at"].startswith("2027-06-07T07:30:00")


def test_at_defaults_to_now_and_a_bad_at_is_a_400_naming_it(staff_api: APIClient, people: dict[str, User]) -> None:
    schedule_id = create(staff_api, PRIMARY).json()["id"]
    assert staff_api.get(f"/api/v1/schedules/{schedule_id}/oncall/").status_code == 200
    bad = staff_api.get(f"/api/v1/schedules/{schedule_id}/oncall/", {"at": "next tuesday"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"at": [bad.json()["error"]["message"]]}
    assert "at" in bad.json()["error"]["message"]
    assert staff_api.get(f"/api/v1/schedules/{schedule_id}/oncall/", {"at": "9999-01-01T00:00:00Z"}).status_code == 400


@pytest.mark.parametrize(("change", "field"), [
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ({"layers": [{"rotation": "weekly", "handoff": "2026-11-30T09:00:00", "participants": []}]}, "layers[0].participants"),
    ({"layers": [{"rotation": "weekly", "handoff": "2026-11-30T09:00:00", "participants": ["alice", "mallory"]}]},
     "layers[0].participants"),
    ({"layers": [{"rotation": "custom", "handoff": "2026-11-30T09:00:00", "participants": ["alice"]}]},
     "layers[0].length_seconds"),
    ({"layers": [{"rotation": "custom", "length_seconds": 0, "handoff": "2026-11-30T09:00:00",
                  "participants": ["alice"]}]}, "layers[0].length_seconds"),
    ({"layers": [{"rotation": "custom", "length_seconds": -3600, "handoff": "2026-11-30T09:00:00",
                  "participants": ["alice"]}]}, "layers[0].length_seconds"),
    ({"layers": [{"rotation": "custom", "length_seconds": 10**12, "handoff": "2026-11-30T09:00:00",
                  "participants": ["alice"]}]}, "layers[0].length_seconds"),
    ({"layers": [{"rotation": "fortnightly", "handoff": "2026-11-30T09:00:00", "participants": ["alice"]}]}, "layers"),
    ({"layers": [{"rotation": "weekly", "handoff": "monday", "participants": ["alice"]}]}, "layers"),
    ({"layers": [{"rotation": "weekly", "handoff": "0001-01-01T00:00:00", "participants": ["alice"]}]}, "layers"),
    ({"name": ""}, "name"),
    ({"name": 7}, "name"),
])
def test_bad_input_is_a_400_naming_the_field(staff_api: APIClient, people: dict[str, User], change: dict[str, Any],
                                             field: str) -> None:
    answer = create(staff_api, PRIMARY | change)
    assert answer.status_code == 400, answer.content
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Schedule.objects.exists()


def test_a_duplicate_name_is_refused(staff_api: APIClient, people: dict[str, User]) -> None:
    assert create(staff_api, PRIMARY).status_code == 201
    answer = create(staff_api, PRIMARY | {"name": "primary"})
    assert answer.status_code == 400
    assert "name" in answer.json()["error"]["fields"]


def test_it_lists_reads_replaces_patches_and_deletes(staff_api: APIClient, people: dict[str, User]) -> None:
    schedule_id = create(staff_api, PRIMARY).json()["id"]
    assert [s["name"] for s in staff_api.get("/api/v1/schedules/").json()] == ["Primary"]
    assert staff_api.get(f"/api/v1/schedules/{schedule_id}/").json()["time_zone"] == "Europe/London"
    replaced = staff_api.put(f"/api/v1/schedules/{schedule_id}/", PRIMARY | {"layers": [
        {"rotation": "daily", "handoff": "2026-12-01T08:00:00", "participants": ["carol"]},
        {"rotation": "custom", "length_seconds": 43200, "handoff": "2026-12-01T08:00:00",
         "participants": ["dave", "alice"], "name": "Follow the sun"}]}, format="json")
    assert replaced.status_code == 200, replaced.json()
    assert [(x["order"], x["rotation"], x["participants"]) for x in replaced.json()["layers"]] == [
        (0, "daily", ["carol"]), (1, "custom", ["dave", "alice"])]
    patched = staff_api.patch(f"/api/v1/schedules/{schedule_id}/", {"time_zone": "America/New_York"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["time_zone"] == "America/New_York"
    assert len(patched.json()["layers"]) == 2  # untouched
    assert staff_api.patch(f"/api/v1/schedules/{schedule_id}/", {"time_zone": "Nowhere"},
                           format="json").json()["error"]["fields"] == {"time_zone": [
                               'Unknown time zone "Nowhere". Use an IANA name, e.g. Europe/London.']}
    assert staff_api.delete(f"/api/v1/schedules/{schedule_id}/").status_code == 204
    assert staff_api.get(f"/api/v1/schedules/{schedule_id}/").status_code == 404


def test_overrides_are_created_listed_and_validated(staff_api: APIClient, people: dict[str, User]) -> None:
    schedule_id = create(staff_api, PRIMARY).json()["id"]
    url = f"/api/v1/schedules/{schedule_id}/overrides/"
    made = staff_api.post(url, {"user": "carol", "starts_at": "2026-12-08T00:00:00Z", "ends_at": "2026-12-09T00:00:00Z"},
                          format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["user"] == "carol"
    assert made.json()["created_by"] == "staff"
    assert staff_api.get(f"/api/v1/schedules/{schedule_id}/oncall/", {"at": "2026-12-08T10:00:00Z"}).json()["users"] == [
        "carol"]
    backwards = staff_api.post(url, {"user": "carol", "starts_at": "2026-12-09T00:00:00Z",
                                     "ends_at": "2026-12-08T00:00:00Z"}, format="json")
    assert backwards.status_code == 400
    assert "ends_at" in backwards.json()["error"]["fields"]
    unknown = staff_api.post(url, {"user": "mallory", "starts_at": "2026-12-08T00:00:00Z",
                                   "ends_at": "2026-12-09T00:00:00Z"}, format="json")
    assert "user" in unknown.json()["error"]["fields"]
    garbage = staff_api.post(url, {"user": "carol", "starts_at": "soon", "ends_at": 5}, format="json")
    assert set(garbage.json()["error"]["fields"]) == {"starts_at", "ends_at"}
    assert staff_api.delete(f"{url}{made.json()['id']}/").status_code == 204
    assert staff_api.delete(f"{url}{made.json()['id']}/").status_code == 404


def test_anyone_signed_in_reads_only_staff_change(responder_api: APIClient, staff_api: APIClient,
                                                  people: dict[str, User]) -> None:
    schedule_id = create(staff_api, PRIMARY).json()["id"]
    assert responder_api.get("/api/v1/schedules/").status_code == 200
    assert responder_api.get(f"/api/v1/schedules/{schedule_id}/oncall/").status_code == 200
    assert create(responder_api, PRIMARY | {"name": "Mine"}).status_code == 403
    assert responder_api.patch(f"/api/v1/schedules/{schedule_id}/", {"name": "X"}, format="json").status_code == 403
    assert responder_api.delete(f"/api/v1/schedules/{schedule_id}/").status_code == 403
    assert responder_api.post(f"/api/v1/schedules/{schedule_id}/overrides/", {
        "user": "alice", "starts_at": "2026-12-08T00:00:00Z", "ends_at": "2026-12-09T00:00:00Z"},
        format="json").status_code == 403
    assert APIClient().get("/api/v1/schedules/").status_code == 401


def test_contact_methods_belong_to_their_user(responder_api: APIClient, staff_api: APIClient) -> None:
    url = "/api/v1/users/me/contact-methods/"
    made = responder_api.post(url, {"kind": "email", "value": "responder@example.com"}, format="json")
    assert made.status_code == 201
    assert made.json() | {"id": 0, "created_at": ""} == {"id": 0, "kind": "email", "value": "responder@example.com",
                                                         "verified": False, "created_at": ""}
    assert [m["value"] for m in responder_api.get(url).json()] == ["responder@example.com"]
    assert staff_api.get(url).json() == []
    assert staff_api.delete(f"{url}{made.json()['id']}/").status_code == 404  # not theirs
    for body, field in (({"kind": "email", "value": "not-an-address"}, "value"),
                        ({"kind": "slack", "value": "#general"}, "value"),
                        ({"kind": "pagerduty", "value": "short"}, "value"),
                        ({"kind": "pigeon", "value": "x"}, "kind"),
                        ({"kind": "email", "value": "responder@example.com"}, "value")):  # a duplicate
        bad = responder_api.post(url, body, format="json")
        assert bad.status_code == 400, body
        assert field in bad.json()["error"]["fields"]
    assert responder_api.delete(f"{url}{made.json()['id']}/").status_code == 204
    assert responder_api.get(url).json() == []
