"""The admin edits reference data, and shows incidents without letting anyone bypass the lifecycle."""

from __future__ import annotations

import pytest

from incidents import lifecycle
from incidents.models import Severity, Source

pytestmark = pytest.mark.django_db

# admin_client: pytest-django's client signed in as a superuser.


def test_it_lists_severities_with_their_sla_targets(admin_client, p1):
    page = admin_client.get("/admin/incidents/severity/").content.decode()
    assert "P1" in page and "0:15:00" in page and "P4" in page


def test_it_changes_an_sla_target(admin_client, p1):
    response = admin_client.post(f"/admin/incidents/severity/{p1.pk}/change/", {
        "name": "P1", "label": "Critical", "rank": 1, "colour": "#dc2626", "description": "",
        "response_target": "00:10:00", "resolution_target": "01:00:00"})
    assert response.status_code == 302
    assert Severity.objects.get(pk=p1.pk).response_target.total_seconds() == 600


def test_it_rejects_a_colour_that_is_not_hex(admin_client, p1):
    response = admin_client.post(f"/admin/incidents/severity/{p1.pk}/change/", {
        "name": "P1", "label": "Critical", "rank": 1, "colour": "red", "description": "",
        "response_target": "00:15:00", "resolution_target": "01:00:00"})
    assert response.status_code == 200 and "Use a hex colour like #dc2626." in response.content.decode()


def test_it_shows_incidents_read_only(admin_client, p1):
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    page = admin_client.get(f"/admin/incidents/incident/{incident.pk}/change/")
    assert page.status_code == 200 and "Checkout down" in page.content.decode()
    admin_client.post(f"/admin/incidents/incident/{incident.pk}/change/", {"status": "closed"})
    incident.refresh_from_db()
    assert incident.status == "triggered"
