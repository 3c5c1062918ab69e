"""Poison input to the REST API: numbers are not strings, query parameters are checked, an
oversized body is a JSON 413 and a deeply nested one a 400; every refusal names what is wrong
in the project's error shape ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from incidents.models import Incident, TimelineEvent
from opsportal.lib.jsonlimits import MAX_DEPTH

URL = "/api/v1/incidents/"


def field_error(response: Any, field: str) -> str:
    assert response.status_code == 400, response.content[:500]
    error = response.json()["error"]
    assert error["code"] == "invalid", error
    assert field in error["fields"], error
    assert error["message"].startswith(f"{field}:") or f"{field}:" in error["message"], error
    return " ".join(error["fields"][field])


@pytest.mark.parametrize("value", [0, 1.5, True, ["x"], {"a": "b"}])
def test_it_refuses_a_note_that_is_not_a_string(api, incident, value: Any) -> None:
    response = api.post(f"{URL}{incident.pk}/resolve/", {"note": value}, format="json")

    assert "string" in field_error(response, "note")
    incident.refresh_from_db()
    assert incident.status == "triggered"


@pytest.mark.parametrize(
    "action, field",
    [("mitigate", "note"), ("reopen", "reason"), ("notes", "text")],
)
def test_it_refuses_numbers_for_every_text_field_of_an_action(api, incident, action: str, field: str) -> None:
    events = TimelineEvent.objects.count()

    response = api.post(f"{URL}{incident.pk}/{action}/", {field: 0}, format="json")

    assert "string" in field_error(response, field)
    assert TimelineEvent.objects.count() == events


@pytest.mark.parametrize("field, value", [("title", 404), ("description", 0.5)])
def test_it_refuses_numbers_for_the_text_fields_of_a_new_incident(api, p3, field: str, value: Any) -> None:
    body = {"title": "Checkout down", "severity": "P3", field: value}

    assert "string" in field_error(api.post(URL, body, format="json"), field)
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("offset=null", "offset"),
        ("offset=-1", "offset"),
        ("offset=1e3", "offset"),
        (f"offset={10**30}", "offset"),
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=", "limit"),
        ("limit=-5", "limit"),
    ],
)
def test_it_refuses_a_paging_parameter_that_is_not_a_count(api, incident, query: str, parameter: str) -> None:
    field_error(api.get(f"{URL}?{query}"), parameter)


def test_it_still_pages_with_good_parameters_and_caps_the_limit(api, incident) -> None:
    response = api.get(f"{URL}?limit=500&offset=0")

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1


def test_it_answers_an_oversized_api_body_with_a_json_413(api, p3) -> None:
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = api.post(URL, {"title": "x" * 2000, "severity": "P3"}, format="json")

    assert response.status_code == 413, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "too_large" and "1000" in error["message"]
    assert not Incident.objects.exists()


def test_it_answers_an_11_mb_api_body_with_a_json_413(api, p3) -> None:
    body = json.dumps({"title": "t", "severity": "P3", "description": "x" * (11 * 1024 * 1024)})

    response = api.post(URL, body, content_type="application/json")

    assert response.status_code == 413, response.content[:300]
    assert response.json()["error"]["code"] == "too_large"
    assert not Incident.objects.exists()


def test_it_answers_an_oversized_body_from_a_signed_in_browser_with_json(responder, incident) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(responder)
    client.cookies["csrftoken"] = "x" * 32
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = client.post(
            f"{URL}{incident.pk}/notes/", {"text": "x" * 5000}, content_type="application/json", HTTP_X_CSRFTOKEN="x" * 32
        )

    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "too_large"


def test_it_refuses_deep_nesting_naming_the_limit(api, p3) -> None:
    depth = 930
    body = '{"title": "t", "severity": "P3", "labels": ' + "[" * depth + "]" * depth + "}"

    response = api.post(URL, body, content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert f"{MAX_DEPTH}" in response.json()["error"]["message"]
    assert not Incident.objects.exists()
