"""Real senders on the same endpoint: Grafana Alerting's webhook contact point (version "1", with
links), and the liberal readings where the meaning is clear (identical repeats in one post merge;
an alert without status takes it from endsAt)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from incidents.integrations.alertmanager.models import Alert, AlertStatus
from incidents.models import Incident, Status

from .webhook_support import FIXTURES, Hook, alert, payload

pytestmark = pytest.mark.django_db

GRAFANA = Path(FIXTURES).parent / "grafana"


def grafana(name: str) -> dict[str, Any]:
    return dict(json.loads((GRAFANA / f"{name}.json").read_text()))


def test_it_accepts_grafana_alerting_and_keeps_its_links(hook: Hook) -> None:
    response = hook.post(grafana("firing"))

    assert response.status_code == 200, response.content
    assert response.json()["action"] == "opened"
    incident = Incident.objects.get()
    db1 = Alert.objects.get(fingerprint="3f1c9a7be2d04c55")
    assert db1.incident == incident and db1.status == AlertStatus.FIRING
    assert db1.generator_url == "https://grafana.example.org/alerting/grafana/fe1q2w3e4r/view?orgId=1"
    assert db1.links == {
        "silence": grafana("firing")["alerts"][0]["silenceURL"],
        "dashboard": "https://grafana.example.org/d/node-exp/node-exporter?orgId=1",
        "panel": "https://grafana.example.org/d/node-exp/node-exporter?orgId=1&viewPanel=7",
        "image": "https://grafana.example.org/public/img/attachments/0c7f2d1e.png",
    }
    assert Alert.objects.get(fingerprint="8d02b6e41f9c7a13").links == {"silence": grafana("firing")["alerts"][1]["silenceURL"]}


def test_it_applies_a_grafana_resolution_and_updates_the_links(hook: Hook) -> None:
    hook.post(grafana("firing"))

    response = hook.post(grafana("resolved"))

    assert response.status_code == 200, response.content
    db1 = Alert.objects.get(fingerprint="3f1c9a7be2d04c55")
    assert db1.status == AlertStatus.RESOLVED and db1.ends_at is not None
    assert "image" not in db1.links
    assert Incident.objects.get().status == Status.TRIGGERED  # db-2 still fires


def test_it_shows_grafanas_links_on_the_incident_as_http_links_only(hook: Hook, responder_client: Client) -> None:
    body = grafana("firing")
    body["alerts"][1]["silenceURL"] = "javascript:alert(document.cookie)"
    body["alerts"][1]["dashboardURL"] = " data:text/html,<script>x</script>"
    hook.post(body)

    page = responder_client.get(reverse("incidents:detail", args=[Incident.objects.get().pk])).content.decode()

    for link in ("dashboardURL", "panelURL", "imageURL", "silenceURL", "generatorURL"):
        href = body["alerts"][0][link].replace("&", "&amp;")
        assert f'href="{href}"' in page, link
    assert ">dashboard ↗<" in page and ">panel ↗<" in page and ">image ↗<" in page and ">silence ↗<" in page
    assert "javascript:" not in page and "data:text/html" not in page


@pytest.mark.parametrize("link", ["silenceURL", "dashboardURL", "panelURL", "imageURL"])
def test_it_refuses_a_grafana_link_that_is_not_a_string(hook: Hook, link: str) -> None:
    body = grafana("firing")
    body["alerts"][1][link] = {"url": "https://x"}

    response = hook.post(body)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == f"alerts[1].{link}"
    assert not Incident.objects.exists()


def test_it_names_both_versions_it_accepts(hook: Hook) -> None:
    response = hook.post(payload([alert("web-1")], version="2"))

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert 'version must be "4"' in message and '"1" (Grafana Alerting' in message


def test_it_merges_identical_copies_of_an_alert_in_one_post(hook: Hook) -> None:
    one = alert("web-1")
    response = hook.post(payload([one, copy.deepcopy(one), alert("web-2"), copy.deepcopy(one)]))

    assert response.status_code == 200, response.content
    assert response.json()["alerts"] == 2
    assert sorted(Alert.objects.values_list("labels__instance", "times_received")) == [("web-1", 1), ("web-2", 1)]


def test_it_still_refuses_one_fingerprint_with_different_content(hook: Hook) -> None:
    body = payload([alert("web-1", fingerprint="aaaa"), alert("web-1", fingerprint="aaaa", status="resolved",
                                                              ends_at="2026-11-23T10:00:00Z")])

    response = hook.post(body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "alerts[1].fingerprint" and "different content" in error["message"]
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    "ends_at, expected",
    [
        ("2026-11-23T10:00:00Z", AlertStatus.RESOLVED),  # an end in the past
        ("0001-01-01T00:00:00Z", AlertStatus.FIRING),  # Go's zero time: no end
        ("2999-01-01T00:00:00Z", AlertStatus.FIRING),  # Alertmanager's "resolve by" time, still ahead
        (None, AlertStatus.FIRING),
    ],
)
def test_it_takes_a_missing_status_from_ends_at(hook: Hook, ends_at: str | None, expected: str) -> None:
    body = payload([alert("web-1"), alert("web-2")])
    del body["alerts"][1]["status"]
    if ends_at is None:
        del body["alerts"][1]["endsAt"]
    else:
        body["alerts"][1]["endsAt"] = ends_at

    response = hook.post(body)

    assert response.status_code == 200, response.content
    assert Alert.objects.get(labels__instance="web-2").status == expected


def test_it_still_refuses_a_status_it_does_not_know(hook: Hook) -> None:
    body = payload([alert("web-1")])
    body["alerts"][0]["status"] = "pending"

    response = hook.post(body)

    assert response.status_code == 400 and response.json()["error"]["field"] == "alerts[0].status"
