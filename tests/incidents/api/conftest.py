"""API personas: a responder calling the API with a real Bearer token, and an incident to act on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from incidents.api.tokens import api_token_issue
from incidents.lifecycle import incident_open
from incidents.models import Incident, Severity, Source


@pytest.fixture
def api(responder: User) -> APIClient:
    """A script authenticated as ``responder`` the way scripts are: ``Authorization: Bearer``."""
    _, token = api_token_issue(user=responder)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def incident(p3: Severity, responder: User) -> Incident:
    """A freshly triggered P3 incident declared in the web UI."""
    return incident_open(title="Checkout latency above 2s", severity=p3, source=Source.WEB, actor=responder)
