"""Fixtures for the HTML views: a signed-in client and incidents in each state."""

from __future__ import annotations

import pytest

from incidents import lifecycle
from incidents.models import Incident, Source


@pytest.fixture
def signed_in(client, responder):  # type: ignore[no-untyped-def]
    client.force_login(responder)
    return client


@pytest.fixture
def triggered_p1(p1, responder) -> Incident:  # type: ignore[no-untyped-def]
    return lifecycle.incident_open(title="Checkout returns 502", severity=p1, source=Source.WEB, actor=responder)


@pytest.fixture
def closed_p3(p3, responder) -> Incident:  # type: ignore[no-untyped-def]
    incident = lifecycle.incident_open(title="Slow search", severity=p3, source=Source.WEB, actor=responder)
    lifecycle.incident_resolve(incident=incident, actor=responder, source=Source.WEB)
    return lifecycle.incident_close(incident=incident, actor=responder, source=Source.WEB)
