"""API reads while PostgreSQL is unreachable answer 503 with Retry-After (JSON), never 500.

The outage is real: the default connection is pointed at a port nothing listens on, so psycopg
itself fails to connect."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connection
from rest_framework.test import APIClient

from incidents.api.tokens import api_token_issue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def outage() -> Iterator[None]:
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def token(responder, p1) -> str:
    return api_token_issue(user=responder)[1]


@pytest.fixture
def session_client(responder) -> APIClient:
    client = APIClient()
    client.force_login(responder)
    return client


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/incidents/1/", "/api/v1/severities/"])
def test_a_token_read_during_an_outage_is_503_with_retry_after(token, outage, path) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    _check(client.get(path))


def test_a_browser_session_read_during_an_outage_is_503_with_retry_after(session_client, outage) -> None:
    _check(session_client.get("/api/v1/incidents/?status=open"))


def test_reads_work_again_when_the_database_is_back(token, p1) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/severities/").status_code == 200


def _check(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "unavailable", "message": "The database is unavailable; retry later."}}
