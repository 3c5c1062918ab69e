"""Incident actions through the API: each changes what the next GET shows and adds one timeline
event; an action the lifecycle forbids is a 409 that changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from incidents.api.tokens import api_token_issue
from incidents.lifecycle import incident_acknowledge, incident_close, incident_resolve
from incidents.models import Incident, Source


def _url(incident: Incident, action: str) -> str:
    return f"/api/v1/incidents/{incident.pk}/{action}/"


def _acked(i: Incident, user: Any) -> None:
    incident_acknowledge(incident=i, actor=user, source=Source.WEB)


def _resolved(i: Incident, user: Any) -> None:
    incident_resolve(incident=i, actor=user, source=Source.WEB)


def _nothing(i: Incident, user: Any) -> None:
    pass


def _closed(i: Incident, user: Any) -> None:
    incident_resolve(incident=i, actor=user, source=Source.WEB)
    incident_close(incident=i, actor=user, source=Source.WEB)


# (action, set-up, body, what the next GET shows, the timeline event's kind)
ACTIONS: list[tuple[str, Callable[[Incident, Any], None], dict[str, Any] | None, dict[str, Any], str]] = [
    ("acknowledge", _nothing, None, {"status": "acknowledged"}, "acknowledged"),
    ("mitigate", _acked, {"note": "Failed over to eu-west-2"}, {"status": "mitigated"}, "mitigated"),
    ("resolve", _acked, {"note": "Rolled back 4.2.1"}, {"status": "resolved"}, "resolved"),
    ("resolve", _nothing, None, {"status": "resolved"}, "resolved"),
    (
        "reopen",
        _resolved,
        {"reason": "Errors are back"},
        {"status": "triggered", "resolved_at": None},
        "reopened",
    ),
    ("close", _resolved, None, {"status": "closed"}, "closed"),
    ("assign", _nothing, {"commander": "second"}, {"commander": "second"}, "assigned"),
    ("severity", _nothing, {"severity": "P1"}, {"severity": "P1"}, "severity_changed"),
]


@pytest.mark.parametrize(("action", "setup", "body", "shows", "kind"), ACTIONS)
def test_it_changes_the_incident_and_adds_one_timeline_event(
    api, incident, responder, other_responder, action, setup, body, shows, kind
) -> None:
    setup(incident, responder)
    events_before = len(api.get(_url(incident, "timeline")).json())

    response = api.post(_url(incident, action), body, format="json")

    assert response.status_code == 200, response.json()
    detail = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert response.json() == detail
    for field, value in shows.items():
        assert detail[field] == value
    timeline = api.get(_url(incident, "timeline")).json()
    assert len(timeline) == events_before + 1
    assert timeline[-1]["kind"] == kind
    assert timeline[-1]["actor"] == "responder"
    assert timeline[-1]["source"] == "api"
    if body and ("note" in body or "reason" in body):
        assert timeline[-1]["message"] == body.get("note", body.get("reason"))


def test_it_records_the_lifecycle_timestamps_as_the_incident_moves(api, incident) -> None:
    for action in ("acknowledge", "mitigate", "resolve", "close"):
        assert api.post(_url(incident, action), format="json").status_code == 200

    detail = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    stamps = [
        datetime.fromisoformat(detail[f])
        for f in ("opened_at", "acknowledged_at", "mitigated_at", "resolved_at", "closed_at")
    ]
    assert stamps == sorted(stamps)
    assert detail["is_open"] is False


def test_it_recomputes_sla_deadlines_when_severity_changes(api, incident) -> None:
    response = api.post(_url(incident, "severity"), {"severity": "P1"}, format="json")

    body = response.json()
    opened = datetime.fromisoformat(body["opened_at"])
    assert datetime.fromisoformat(body["response_due_at"]) == opened + timedelta(minutes=15)
    assert datetime.fromisoformat(body["resolve_due_at"]) == opened + timedelta(hours=1)


def test_it_unassigns_the_commander_with_null(api, incident, responder) -> None:
    api.post(_url(incident, "assign"), {"commander": "responder"}, format="json")

    response = api.post(_url(incident, "assign"), {"commander": None}, format="json")

    assert response.status_code == 200
    assert response.json()["commander"] is None
    assert api.get(_url(incident, "timeline")).json()[-1]["message"] == "Commander unassigned."


def test_it_adds_a_note_and_answers_201_with_the_event(api, incident) -> None:
    response = api.post(_url(incident, "notes"), {"text": "  Paged the DB team.  "}, format="json")

    assert response.status_code == 201
    event = response.json()
    assert event["kind"] == "note"
    assert event["message"] == "Paged the DB team."
    assert event["actor"] == "responder"
    assert api.get(_url(incident, "timeline")).json()[-1] == event


# --- Forbidden transitions: 409, nothing changes -------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "action", "body"),
    [
        (_closed, "acknowledge", None),
        (_closed, "resolve", None),
        (_closed, "reopen", None),
        (_closed, "assign", {"commander": "responder"}),
        (_closed, "severity", {"severity": "P1"}),
        (_closed, "notes", {"text": "too late"}),
        (_nothing, "reopen", None),
        (_nothing, "close", None),
        (_resolved, "mitigate", None),
    ],
)
def test_it_refuses_an_illegal_transition_with_409(api, incident, responder, setup, action, body) -> None:
    setup(incident, responder)
    before = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    events_before = incident.events.count()

    response = api.post(_url(incident, action), body, format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_transition"
    assert error["message"].startswith("Cannot ")
    assert f"#{incident.pk}" in error["message"]
    assert api.get(f"/api/v1/incidents/{incident.pk}/").json() == before
    assert incident.events.count() == events_before


def test_it_says_who_already_acknowledged(api, incident, other_responder) -> None:
    incident_acknowledge(incident=incident, actor=other_responder, source=Source.WEB)

    response = api.post(_url(incident, "acknowledge"), format="json")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "already_acknowledged",
        "message": f"Incident #{incident.pk} is already acknowledged by second.",
    }
    assert incident.events.filter(kind="acknowledged").count() == 1


def test_it_says_an_incident_is_already_resolved(api, incident, responder) -> None:
    incident_resolve(incident=incident, actor=responder, source=Source.WEB)

    response = api.post(_url(incident, "resolve"), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_resolved"


# --- Bad input on actions: 400/404/415, nothing changes -------------------------------------------


@pytest.mark.parametrize(
    ("action", "body", "field", "says"),
    [
        ("assign", {"commander": "nobody"}, "commander", 'Unknown user "nobody".'),
        ("assign", {}, "commander", "This field is required."),
        (
            "severity",
            {"severity": "P9"},
            "severity",
            'Unknown severity "P9". Valid severities: P1, P2, P3, P4.',
        ),
        ("severity", {"severity": 1}, "severity", "non-empty string"),
        ("notes", {"text": ""}, "text", "may not be blank"),
        ("notes", {"text": "x" * 10_001}, "text", "no more than 10000 characters"),
        ("resolve", {"note": "x" * 10_001}, "note", "no more than 10000 characters"),
    ],
)
def test_it_rejects_bad_action_input_naming_the_field(api, incident, action, body, field, says) -> None:
    before = api.get(f"/api/v1/incidents/{incident.pk}/").json()

    response = api.post(_url(incident, action), body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert says in error["fields"][field][0]
    assert api.get(f"/api/v1/incidents/{incident.pk}/").json() == before
    assert incident.events.count() == 1


def test_it_refuses_a_deactivated_commander(api, incident, other_responder) -> None:
    other_responder.is_active = False
    other_responder.save()

    response = api.post(_url(incident, "assign"), {"commander": "second"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["commander"] == ['User "second" is deactivated.']
    assert Incident.objects.get(pk=incident.pk).commander is None


@pytest.mark.parametrize(
    "action", ["acknowledge", "mitigate", "resolve", "reopen", "close", "assign", "severity", "notes"]
)
def test_it_answers_404_for_an_action_on_an_unknown_incident(api, db, action) -> None:
    response = api.post(f"/api/v1/incidents/424242/{action}/", {"text": "x"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Incident #424242 does not exist."


def test_it_rejects_a_malformed_json_body_on_an_action(api, incident) -> None:
    response = api.post(_url(incident, "acknowledge"), "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert Incident.objects.get(pk=incident.pk).status == "triggered"


def test_it_answers_415_to_an_action_body_that_is_not_json(api, incident) -> None:
    response = api.post(
        _url(incident, "notes"), "text=hello", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert incident.events.count() == 1


def test_it_answers_405_naming_the_method_for_a_get_on_an_action(api, incident) -> None:
    response = api.get(_url(incident, "acknowledge"))

    assert response.status_code == 405
    assert response.json()["error"]["message"] == 'Method "GET" not allowed.'


# --- Concurrency ---------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_lets_one_of_two_concurrent_acknowledgements_win(incident, responder, other_responder) -> None:
    clients = []
    for user in (responder, other_responder):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)[1]}")
        clients.append(client)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict[str, Any]]] = []

    def acknowledge(client: APIClient) -> None:
        try:
            barrier.wait(timeout=10)
            response = client.post(_url(incident, "acknowledge"), format="json")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=acknowledge, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(code for code, _ in answers) == [200, 409]
    loser = next(body for code, body in answers if code == 409)
    assert loser["error"]["code"] == "already_acknowledged"
    assert loser["error"]["message"].startswith(f"Incident #{incident.pk} is already acknowledged by ")
    assert incident.events.filter(kind="acknowledged").count() == 1
