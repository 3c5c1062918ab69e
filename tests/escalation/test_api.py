"""The API contract of docs/escalation.md: policies as code, the plan, escalate now, page; every bad
input a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from incidents.escalation.models import EscalationPolicy
from incidents.models import EventKind, Incident

PAYMENTS: dict[str, Any] = {"name": "Payments", "repeat": 0, "levels": [
    {"delay_seconds": 0, "targets": [{"type": "slack_channel", "value": "C0PAY"}]},
    {"delay_seconds": 300, "targets": [{"type": "schedule", "value": 0}, {"type": "user", "value": "alice"}]},
]}


def _payments(schedule_id: int) -> dict[str, Any]:
    body = {**PAYMENTS, "levels": [dict(lv) for lv in PAYMENTS["levels"]]}
    body["levels"][1]["targets"] = [{"type": "schedule", "value": schedule_id}, {"type": "user", "value": "alice"}]
    return body


def test_a_policy_round_trips_and_an_incident_follows_it(api: APIClient, p1, alice, schedule):
    created = api.post("/api/v1/escalation-policies/", _payments(schedule.pk), format="json")
    assert created.status_code == 201, created.json()
    policy_id = created.json()["id"]
    detail = api.get(f"/api/v1/escalation-policies/{policy_id}/").json()
    assert [lv["delay_seconds"] for lv in detail["levels"]] == [0, 300]
    assert detail["levels"][1]["targets"] == [{"type": "schedule", "value": schedule.pk},
                                              {"type": "user", "value": "alice"}]
    assert [p["name"] for p in api.get("/api/v1/escalation-policies/").json()] == ["Payments"]

    opened = api.post("/api/v1/incidents/", {"title": "Card payments fail", "severity": "P1",
                                              "escalation_policy": policy_id}, format="json")
    assert opened.status_code == 201, opened.json()
    incident_id = opened.json()["id"]
    plan = api.get(f"/api/v1/incidents/{incident_id}/escalation/").json()
    assert plan["policy"] == "Payments" and plan["level"] == 1 and plan["next_at"]
    assert [(s["level"], s["status"]) for s in plan["steps"]] == [(1, "sent"), (2, "pending")]
    assert plan["steps"][0]["targets"][0]["via"] == ["slack:C0PAY"]
    assert plan["steps"][1]["targets"][1]["people"] == ["alice"]
    assert plan["steps"][1]["gaps"] == ["schedule Primary has nobody on call"]

    escalated = api.post(f"/api/v1/incidents/{incident_id}/escalate/")
    assert escalated.status_code == 200
    assert [(s["level"], s["status"]) for s in escalated.json()["steps"]] == [(1, "sent"), (2, "sent")]
    assert api.post(f"/api/v1/incidents/{incident_id}/escalate/").json()["error"]["code"] == "escalation_exhausted"

    # Edited: the incident keeps its snapshot; a new one follows the edit.
    body = _payments(schedule.pk)
    body["levels"] = body["levels"][:1]
    assert api.put(f"/api/v1/escalation-policies/{policy_id}/", body, format="json").status_code == 200
    assert len(Incident.objects.get(pk=incident_id).escalation_snapshot["levels"]) == 2
    assert api.delete(f"/api/v1/escalation-policies/{policy_id}/").status_code == 204
    assert not EscalationPolicy.objects.exists()


def test_acknowledging_cancels_the_pending_steps(api: APIClient, p1, alice, schedule):
    policy_id = api.post("/api/v1/escalation-policies/", _payments(schedule.pk), format="json").json()["id"]
    incident_id = api.post("/api/v1/incidents/", {"title": "x", "severity": "P1", "escalation_policy": policy_id},
                           format="json").json()["id"]
    api.post(f"/api/v1/incidents/{incident_id}/acknowledge/")
    plan = api.get(f"/api/v1/incidents/{incident_id}/escalation/").json()
    assert plan["next_at"] is None
    assert [(s["level"], s["status"]) for s in plan["steps"]] == [(1, "sent"), (2, "cancelled")]


def test_page_a_user(api: APIClient, p1, alice):
    incident_id = api.post("/api/v1/incidents/", {"title": "x", "severity": "P1"}, format="json").json()["id"]
    answer = api.post(f"/api/v1/incidents/{incident_id}/page/", {"type": "user", "value": "alice"}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["pages"][0]["targets"][0]["people"] == ["alice"]
    assert Incident.objects.get(pk=incident_id).events.filter(kind=EventKind.ESCALATED).count() == 1
    missing = api.post(f"/api/v1/incidents/{incident_id}/page/", {"type": "user", "value": "zed"}, format="json")
    assert missing.status_code == 400 and "value" in missing.json()["error"]["fields"]


def _level(delay: Any = 0, targets: Any = None) -> dict[str, Any]:
    return {"delay_seconds": delay, "targets": targets if targets is not None else [{"type": "email",
                                                                                      "value": "ops@example.com"}]}


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "P", "levels": [_level(-5)]}, "levels[0].delay_seconds"),
    ({"name": "P", "levels": [_level(), _level(10**9)]}, "levels[1].delay_seconds"),
    ({"name": "P", "levels": [_level("300")]}, "levels[0].delay_seconds"),
    ({"name": "P", "levels": []}, "levels"),
    ({"name": "P"}, "levels"),
    ({"name": "P", "levels": [_level(0, [{"type": "sms", "value": "+44"}])]}, "levels[0].targets[0].type"),
    ({"name": "P", "levels": [_level(0, [{"type": "user", "value": "ghost"}])]}, "levels[0].targets[0].value"),
    ({"name": "P", "levels": [_level(0, [{"type": "schedule", "value": 999}])]}, "levels[0].targets[0].value"),
    ({"name": "P", "levels": [_level(0, [{"type": "email", "value": "not-an-address"}])]},
     "levels[0].targets[0].value"),
    ({"name": "P", "levels": [_level(0, [])]}, "levels[0].targets"),
    ({"name": "", "levels": [_level()]}, "name"),
    ({"name": "P", "repeat": -1, "levels": [_level()]}, "repeat"),
    ({"name": "P", "repeat": 2, "levels": [_level(0)]}, "repeat"),
    ({"name": "P", "levels": [_level()], "colour": "red"}, "colour"),
])
def test_bad_policies_are_400_naming_the_field(api: APIClient, db, body, field):
    answer = api.post("/api/v1/escalation-policies/", body, format="json")
    assert answer.status_code == 400, answer.content
    error = answer.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert not EscalationPolicy.objects.exists()


def test_a_duplicate_name_and_an_unknown_policy_are_400(api: APIClient, db, p1):
    body = {"name": "P", "levels": [_level()]}
    assert api.post("/api/v1/escalation-policies/", body, format="json").status_code == 201
    again = api.post("/api/v1/escalation-policies/", body, format="json")
    assert again.status_code == 400 and "name" in again.json()["error"]["fields"]
    bad = api.post("/api/v1/incidents/", {"title": "x", "severity": "P1", "escalation_policy": 9999}, format="json")
    assert bad.status_code == 400 and "escalation_policy" in bad.json()["error"]["fields"]
    assert api.get("/api/v1/escalation-policies/9999/").status_code == 404
