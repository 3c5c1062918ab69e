"""Scripts get JSON errors, people get pages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_answers_json_for_an_unknown_api_path(client, responder):  # type: ignore[no-untyped-def]
    client.force_login(responder)
    response = client.get("/api/v1/incidents/not-a-number/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found",
                                         "message": "Nothing at GET /api/v1/incidents/not-a-number/."}}


def test_it_answers_a_page_for_an_unknown_page(client, responder):  # type: ignore[no-untyped-def]
    client.force_login(responder)
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
