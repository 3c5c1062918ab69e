"""/api/v1/severities/ and /api/v1/services/: what a script may put in a request."""

from __future__ import annotations

from incidents.models import Service


def test_it_lists_severities_most_urgent_first_with_their_sla_targets(api) -> None:
    severities = api.get("/api/v1/severities/").json()

    assert [s["name"] for s in severities] == ["P1", "P2", "P3", "P4"]
    p1 = severities[0]
    assert p1["response_target_seconds"] == 15 * 60
    assert p1["resolution_target_seconds"] == 60 * 60
    assert p1["colour"].startswith("#")
    assert severities[3]["resolution_target_seconds"] == 7 * 24 * 3600


def test_it_lists_services_by_name(api) -> None:
    Service.objects.create(name="search", owner_team="discovery")
    Service.objects.create(name="checkout", owner_team="payments")

    services = api.get("/api/v1/services/").json()

    assert services == [
        {"name": "checkout", "description": "", "owner_team": "payments"},
        {"name": "search", "description": "", "owner_team": "discovery"},
    ]


def test_it_keeps_reference_lists_read_only(api) -> None:
    response = api.post("/api/v1/services/", {"name": "new"}, format="json")

    assert response.status_code == 405
    assert not Service.objects.filter(name="new").exists()
