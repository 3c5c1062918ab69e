"""Fixtures for the HTML views: incidents in each state. Signed-in clients are in tests/conftest.py."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from incidents import lifecycle
from incidents.models import Incident, Severity, Source


@pytest.fixture
def triggered_p1(p1: Severity, responder: User) -> Incident:
    return lifecycle.incident_open(title="Checkout returns 502", severity=p1, source=Source.WEB, actor=responder)


@pytest.fixture
def closed_p3(p3: Severity, responder: User) -> Incident:
    incident = lifecycle.incident_open(title="Slow search", severity=p3, source=Source.WEB, actor=responder)
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB)
    return lifecycle.incident_close(incident=incident, actor=responder, source=Source.WEB)
