"""On-call fixtures: the demo engineers and API clients with real Bearer tokens."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from incidents.api.tokens import api_token_issue


def bearer(user: User) -> APIClient:
    _, token = api_token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def people(db: None) -> dict[str, User]:
    return {name: User.objects.create_user(name, f"{name}@example.com") for name in ("alice", "bob", "carol", "dave")}


@pytest.fixture
def staff_api(staff: User) -> APIClient:
    """A script run by staff: may change schedules."""
    return bearer(staff)


@pytest.fixture
def responder_api(responder: User) -> APIClient:
    """A script run by a responder: reads schedules, changes only their own contact methods."""
    return bearer(responder)
