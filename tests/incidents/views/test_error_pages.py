"""The 404 and 500 pages people land on when something is missing or broken."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string


@pytest.mark.django_db
def test_it_shows_a_404_page_with_a_way_back(responder_client):
    response = responder_client.get("/no/such/page")

    html = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing at this address." in html
    assert 'href="/">Back to incidents</a>' in html


def test_it_renders_the_500_page_without_a_request_or_database():
    # Django renders 500.html with an empty context: it must not need the user or the request.
    html = render_to_string("500.html")
    assert "Something broke on our side" in html
    assert 'href="/health"' in html
