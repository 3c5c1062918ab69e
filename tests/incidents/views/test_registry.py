"""The core renders what integrations register: panels on the incident page and the dashboard,
and the top bar's links. With nothing registered, the pages still work and name no integration."""

from __future__ import annotations

import pytest
from django.test import Client

from incidents.models import Incident
from incidents.registry import registry

pytestmark = pytest.mark.django_db


def test_it_shows_the_registered_panels_and_links(responder_client: Client, triggered_p1: Incident) -> None:
    detail = responder_client.get(f"/incidents/{triggered_p1.pk}/").content.decode()
    listing = responder_client.get("/").content.decode()
    assert [p.name for p in registry.incident_panels][:2] == ["alerts", "silences"]
    assert 'href="/integrations/">Integrations</a>' in listing
    assert "Integrations" in detail


def test_it_renders_the_core_pages_with_nothing_registered(
    responder_client: Client, triggered_p1: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "incident_panels", [])
    monkeypatch.setattr(registry, "dashboard_panels", [])
    monkeypatch.setattr(registry, "nav_entries", [])
    detail = responder_client.get(f"/incidents/{triggered_p1.pk}/")
    listing = responder_client.get("/")
    assert detail.status_code == 200 and listing.status_code == 200
    assert "Checkout returns 502" in detail.content.decode()
    assert "Integrations" not in listing.content.decode()
    assert "alertmanager" not in listing.content.decode().lower()
