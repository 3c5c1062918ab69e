"""/metrics is for the scraper only: a token or an allowed network, and label values that no
client can multiply."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db


def _series(client: Client) -> list[dict[str, str]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return [
        s.labels
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
        if s.name == "opsportal_http_requests_total"
    ]


def test_it_is_refused_from_an_outside_address_without_a_token() -> None:
    response = Client(REMOTE_ADDR="203.0.113.5").get("/metrics")

    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.content.decode()
    assert "opsportal_" not in response.content.decode()


def test_it_is_served_to_loopback_by_default() -> None:
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200


def test_loopback_through_a_reverse_proxy_is_not_trusted() -> None:
    proxied = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert proxied.get("/metrics").status_code == 403


def test_it_is_served_to_a_configured_network(settings) -> None:
    settings.METRICS_ALLOW_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]

    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403


def test_it_is_served_with_the_token_from_anywhere(settings) -> None:
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    outside = Client(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert outside.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"}).status_code == 200
    assert outside.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    # A wrong token is refused even from loopback: the header says who the caller claims to be.
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/metrics").status_code == 403


def test_unknown_methods_and_paths_collapse_to_one_label_value(client) -> None:
    for i in range(5):
        client.generic(f"FOO{i}", "/health")
        client.get(f"/no-such-page-{i}")

    series = _series(client)

    methods = {s["method"] for s in series}
    routes = {s["route"] for s in series}
    assert not any(m.startswith("FOO") for m in methods)
    assert "other" in methods
    assert not any("no-such-page" in r for r in routes)
    assert "unmatched" in routes
