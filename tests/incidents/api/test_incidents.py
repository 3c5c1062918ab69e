"""/api/v1/incidents/: declare, list with filters, detail with the SLA clock, timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils.dateparse import parse_datetime

from incidents.lifecycle import incident_acknowledge, incident_open, incident_resolve
from incidents.models import Incident, Service, Source, TimelineEvent
from incidents.sla import sla_record_breaches

URL = "/api/v1/incidents/"


def _detail(pk: int) -> str:
    return f"{URL}{pk}/"


def test_it_declares_an_incident_and_starts_its_sla_clocks(api, responder, p1) -> None:
    response = api.post(URL, {"title": "Payments down", "severity": "P1"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["title"] == "Payments down"
    assert body["severity"] == "P1"
    assert body["status"] == "triggered"
    assert body["source"] == "api"
    assert body["created_by"] == "responder"
    assert body["key"].startswith("inc-")
    opened = datetime.fromisoformat(body["opened_at"])
    assert datetime.fromisoformat(body["response_due_at"]) == opened + timedelta(minutes=15)
    assert datetime.fromisoformat(body["resolve_due_at"]) == opened + timedelta(hours=1)
    stored = Incident.objects.get(pk=body["id"])
    assert stored.created_by == responder
    assert list(stored.events.values_list("kind", "source")) == [("opened", "api")]


def test_it_stores_description_service_and_labels(api, p3) -> None:
    Service.objects.create(name="checkout", owner_team="payments")
    response = api.post(
        URL,
        {
            "title": "Checkout errors",
            "severity": "p3",
            "description": "5xx on /pay",
            "service": "checkout",
            "labels": {"team": "payments", "region": "eu-west-1"},
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    detail = api.get(_detail(response.json()["id"])).json()
    assert detail["severity"] == "P3"
    assert detail["description"] == "5xx on /pay"
    assert detail["service"] == "checkout"
    assert detail["labels"] == {"team": "payments", "region": "eu-west-1"}


def test_it_shows_one_incident_with_sla_fields_and_lifecycle_timestamps(api, incident, responder) -> None:
    incident.commander = responder
    incident.save(update_fields=["commander"])
    incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)

    body = api.get(_detail(incident.pk)).json()

    assert body["id"] == incident.pk
    assert body["key"] == incident.key
    assert body["commander"] == "responder"
    assert body["status"] == "acknowledged"
    assert body["acknowledged_at"] is not None
    for field in ("response_due_at", "resolve_due_at", "opened_at"):
        assert parse_datetime(body[field]) is not None
    for field in ("mitigated_at", "resolved_at", "closed_at", "response_breached_at", "resolve_breached_at"):
        assert field in body and body[field] is None
    assert body["is_open"] is True
    assert body["is_breached"] is False


def test_it_shows_a_recorded_sla_breach(api, incident) -> None:
    sla_record_breaches(now=incident.response_due_at + timedelta(seconds=1))

    body = api.get(_detail(incident.pk)).json()

    assert body["is_breached"] is True
    assert parse_datetime(body["response_breached_at"]) is not None
    assert body["resolve_breached_at"] is None
    assert api.get(f"{URL}{incident.pk}/timeline/").json()[-1]["kind"] == "sla_breached"


def test_it_answers_404_naming_an_unknown_incident(api, db) -> None:
    for url in (_detail(9999), f"{URL}9999/timeline/"):
        response = api.get(url)
        assert response.status_code == 404
        assert response.json() == {
            "error": {"code": "not_found", "message": "Incident #9999 does not exist."}
        }


def test_it_lists_incidents_most_urgent_first(api, p1, p3, responder) -> None:
    minor = incident_open(title="minor", severity=p3, source=Source.WEB)
    major = incident_open(title="major", severity=p1, source=Source.WEB)
    done = incident_open(title="done", severity=p1, source=Source.WEB)
    incident_resolve(incident=done, actor=responder, source=Source.WEB)

    body = api.get(URL).json()

    assert body["count"] == 3
    assert [i["id"] for i in body["results"]] == [major.pk, minor.pk, done.pk]


def test_it_pages_through_incidents(api, p3) -> None:
    for n in range(3):
        incident_open(title=f"incident {n}", severity=p3, source=Source.WEB)

    first = api.get(URL, {"limit": 2}).json()
    second = api.get(first["next"]).json()

    assert first["count"] == 3 and len(first["results"]) == 2
    assert len(second["results"]) == 1 and second["next"] is None
    assert {i["id"] for i in first["results"] + second["results"]} == set(
        Incident.objects.values_list("pk", flat=True)
    )


def test_it_caps_the_page_size(api, p3) -> None:
    for n in range(201):
        incident_open(title=f"incident {n}", severity=p3, source=Source.WEB)

    body = api.get(URL, {"limit": 10_000}).json()

    assert body["count"] == 201
    assert len(body["results"]) == 200
    assert body["next"] is not None


def test_it_filters_by_status_and_severity_comma_separated_or_repeated(api, p1, p3, responder) -> None:
    p1_open = incident_open(title="p1 open", severity=p1, source=Source.WEB)
    p3_open = incident_open(title="p3 open", severity=p3, source=Source.WEB)
    p1_acked = incident_open(title="p1 acked", severity=p1, source=Source.WEB)
    incident_acknowledge(incident=p1_acked, actor=responder, source=Source.WEB)
    p3_resolved = incident_open(title="p3 resolved", severity=p3, source=Source.WEB)
    incident_resolve(incident=p3_resolved, actor=responder, source=Source.WEB)

    def ids(query: str) -> set[int]:
        response = api.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json()
        return {i["id"] for i in response.json()["results"]}

    assert ids("status=open") == {p1_open.pk, p3_open.pk, p1_acked.pk}
    assert ids("status=triggered") == {p1_open.pk, p3_open.pk}
    assert ids("severity=P1") == {p1_open.pk, p1_acked.pk}
    assert ids("status=acknowledged,resolved") == {p1_acked.pk, p3_resolved.pk}
    assert ids("status=acknowledged&status=resolved") == {p1_acked.pk, p3_resolved.pk}
    assert ids("status=open&severity=P3") == {p3_open.pk}
    assert ids("severity=P1,P3&status=resolved") == {p3_resolved.pk}


@pytest.mark.parametrize(
    ("query", "field", "named"),
    [
        ("status=opne", "status", "opne"),
        ("severity=P9", "severity", "P9"),
        ("status=open,bogus", "status", "bogus"),
    ],
)
def test_it_rejects_an_unknown_filter_value_naming_it(api, db, query, field, named) -> None:
    response = api.get(f"{URL}?{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert named in error["message"]
    assert error["field"] == field
    assert error["allowed"]


def test_it_shows_the_timeline_oldest_first(api, incident, responder) -> None:
    incident_acknowledge(incident=incident, actor=responder, source=Source.WEB)
    incident_resolve(incident=incident, actor=responder, source=Source.WEB, note="Rolled back")

    events = api.get(f"{URL}{incident.pk}/timeline/").json()

    assert [e["kind"] for e in events] == ["opened", "acknowledged", "resolved"]
    assert events[2]["message"] == "Rolled back"
    assert events[2]["actor"] == "responder"
    assert events[2]["source"] == "web"


# --- Bad input: a clear 400 naming the problem, and nothing stored ------------------------------

VALID = {"title": "Payments down", "severity": "P1"}


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"severity": "P9"}, "severity", 'Unknown severity "P9". Valid severities: P1, P2, P3, P4.'),
        ({"severity": ""}, "severity", "non-empty"),
        ({"severity": None}, "severity", "may not be null"),
        ({"title": ""}, "title", "may not be blank"),
        ({"title": "   "}, "title", "may not be blank"),
        ({"title": "x" * 201}, "title", "no more than 200 characters"),
        ({"description": "x" * 10_001}, "description", "no more than 10000 characters"),
        ({"labels": ["team", "payments"]}, "labels", "string keys to string values"),
        ({"labels": {"attempt": 3}}, "labels", "string keys to string values"),
        ({"labels": {"team": {"name": "payments"}}}, "labels", "string keys to string values"),
        ({"labels": "team=payments"}, "labels", "string keys to string values"),
        ({"service": "nonexistent"}, "service", 'Unknown service "nonexistent"'),
    ],
)
def test_it_rejects_bad_input_naming_the_field(api, p1, change, field, says) -> None:
    response = api.post(URL, {**VALID, **change}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert says in error["fields"][field][0]
    assert says in error["message"]
    assert not Incident.objects.exists()
    assert not TimelineEvent.objects.exists()


def test_it_names_every_missing_required_field(api, db) -> None:
    response = api.post(URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"title", "severity"}
    assert not Incident.objects.exists()


def test_it_accepts_the_longest_title_and_description(api, p1) -> None:
    response = api.post(URL, {**VALID, "title": "x" * 200, "description": "y" * 10_000}, format="json")

    assert response.status_code == 201
    assert Incident.objects.get().title == "x" * 200


def test_it_rejects_malformed_json(api, p1) -> None:
    response = api.post(URL, '{"title": "Payments down", "severity": ', content_type="application/json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    assert "JSON parse error" in error["message"]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"title": "a\\u0000b", "severity": "P1"}', "title contains a NUL character"),
        (
            '{"title": "ok", "severity": "P1", "labels": {"team": "\\u0000"}}',
            "labels.team contains a NUL character",
        ),
        ('{"title": "ok", "severity": "P1", "labels": {"k\\u0000": "v"}}', "a key in labels contains a NUL"),
        ('{"title": "\\ud800", "severity": "P1"}', "title contains an unpaired surrogate"),
        ("[" * 100_000 + "]" * 100_000, "nested more than"),
    ],
)
def test_it_rejects_json_text_no_database_can_store(api, p1, body, says) -> None:
    response = api.post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert says in response.json()["error"]["message"]
    assert not Incident.objects.exists()


def test_it_rejects_a_json_body_that_is_not_an_object(api, p1) -> None:
    response = api.post(URL, ["Payments down", "P1"], format="json")

    assert response.status_code == 400
    assert "Expected a dictionary" in response.json()["error"]["message"]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "Payments down P1"),
        ("application/x-www-form-urlencoded", "title=Payments+down&severity=P1"),
        ("application/xml", "<incident><title>Payments down</title></incident>"),
    ],
)
def test_it_answers_415_to_a_body_that_is_not_json(api, p1, content_type, body) -> None:
    response = api.post(URL, body, content_type=content_type)

    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert content_type in error["message"]
    assert not Incident.objects.exists()
