"""Who may call the API: Bearer tokens for scripts, the session (with CSRF) for the browser."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from incidents.models import Incident
from tests.conftest import PASSWORD

URL = "/api/v1/incidents/"
BODY = {"title": "Payments down", "severity": "P1"}


def _token_from_command(username: str, *args: str) -> str:
    out = StringIO()
    call_command("create_api_token", username, *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_it_accepts_a_token_made_by_the_management_command(responder, p1) -> None:
    client = _bearer(_token_from_command("responder"))

    created = client.post(URL, BODY, format="json")

    assert created.status_code == 201
    assert created.json()["created_by"] == "responder"
    assert client.get(URL).json()["count"] == 1


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Authentication credentials were not provided."),
        ("Bearer not-a-real-token", "Invalid token."),
        ("Bearer", "Invalid token header. No credentials provided."),
        ("Bearer two words", "Invalid token header. Token string should not contain spaces."),
    ],
)
def test_it_answers_401_with_a_clear_message_and_how_to_authenticate(db, p1, header, message) -> None:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)

    for response in (client.get(URL), client.post(URL, BODY, format="json")):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["message"] == message
    assert not Incident.objects.exists()


def test_it_refuses_a_rotated_token(responder, db) -> None:
    old = _token_from_command("responder")
    new = _token_from_command("responder", "--rotate")

    assert _bearer(old).get(URL).json()["error"]["message"] == "Invalid token."
    assert _bearer(new).get(URL).status_code == 200


def test_it_refuses_the_token_of_a_deactivated_user(responder, db) -> None:
    token = _token_from_command("responder")
    responder.is_active = False
    responder.save()

    response = _bearer(token).get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_it_accepts_the_browser_session(responder, p1) -> None:
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="responder", password=PASSWORD)

    assert client.get(URL).status_code == 200
    assert client.get("/api/v1/severities/").status_code == 200


def test_it_refuses_a_session_write_without_a_csrf_token(responder, p1) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="responder", password=PASSWORD)

    response = client.post(URL, BODY, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["message"].startswith("CSRF Failed")
    assert not Incident.objects.exists()


def test_it_accepts_a_session_write_with_the_csrf_token(responder, p1) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="responder", password=PASSWORD)
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret

    response = client.post(URL, BODY, format="json", HTTP_X_CSRFTOKEN=secret)

    assert response.status_code == 201
    assert Incident.objects.get().created_by == responder
