"""Scripts get JSON errors, people get pages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_answers_json_for_an_unknown_api_path(responder_client):
    response = responder_client.get("/api/v1/incidents/not-a-number/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found",
                                         "message": "Nothing at GET /api/v1/incidents/not-a-number/."}}


def test_it_answers_a_page_for_an_unknown_page(responder_client):
    response = responder_client.get("/no-such-page")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_it_points_a_script_at_the_trailing_slash_instead_of_redirecting(responder_client):
    response = responder_client.post("/api/v1/incidents/1/acknowledge", {}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        "Nothing at POST /api/v1/incidents/1/acknowledge. "
        "Did you mean /api/v1/incidents/1/acknowledge/ (with a trailing slash)?"
    )


def test_it_still_redirects_pages_to_their_trailing_slash(responder_client):
    response = responder_client.get("/integrations")
    assert response.status_code == 301 and response["Location"] == "/integrations/"
