"""Signing in and out of the web UI."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_signs_in_and_lands_on_the_incident_list(client, responder):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="password"' in page.content.decode()

    response = client.post(reverse("login"), {"username": "responder", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:list")
    assert client.get(reverse("incidents:list")).status_code == 200


def test_it_says_so_when_the_password_is_wrong(client, responder):
    response = client.post(reverse("login"), {"username": "responder", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()


def test_it_signs_out_with_a_post_from_the_nav(responder_client, responder):
    html = responder_client.get(reverse("incidents:list")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}">' in html
    assert 'href="/api/v1/docs/"' in html
    assert 'href="/admin/"' not in html  # not staff

    response = responder_client.post(reverse("logout"))

    assert response.status_code == 302
    assert responder_client.get(reverse("incidents:list")).status_code == 302


def test_it_links_staff_to_the_admin(staff_client):
    assert 'href="/admin/"' in staff_client.get(reverse("incidents:list")).content.decode()
