"""Poison input never becomes a 500 (Alertmanager retries a 5xx forever): every number is bounded
to what its column stores, nesting depth is bounded, every string field is type-checked, and each
refusal is a 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from incidents.integrations.alertmanager.models import Alert, WebhookDelivery
from incidents.models import Incident
from opsportal.lib.jsonlimits import MAX_DEPTH

from .webhook_support import Hook, alert, payload

pytestmark = pytest.mark.django_db


def refused(response: Any, field: str, *fragments: str) -> dict[str, Any]:
    assert response.status_code == 400, response.content[:500]
    error = response.json()["error"]
    assert error["field"] == field, error
    assert field in error["message"] or not field, error
    for fragment in fragments:
        assert fragment in error["message"], error
    assert not (Incident.objects.exists() or Alert.objects.exists() or WebhookDelivery.objects.exists())
    return dict(error)


@pytest.mark.parametrize("count", [2**31, 2**63, 10**30])
def test_it_refuses_a_truncated_count_the_column_cannot_store(hook: Hook, count: int) -> None:
    refused(hook.post(payload([alert("web-1")], truncated=count)), "truncatedAlerts", "2147483647")


def test_it_stores_the_largest_truncated_count_the_column_holds(hook: Hook) -> None:
    response = hook.post(payload([alert("web-1")], truncated=2**31 - 1))

    assert response.status_code == 200, response.content
    assert WebhookDelivery.objects.get().truncated_alerts == 2**31 - 1


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 930, 100_000])
def test_it_refuses_deep_nesting_naming_the_limit(hook: Hook, depth: int) -> None:
    body = payload([alert("web-1")])
    text = json.dumps(body)
    nested = "[" * depth + "]" * depth
    poisoned = text[:-1] + f', "extra": {nested}' + "}"

    error = refused(hook.post(poisoned), "", f"{MAX_DEPTH} levels")
    assert "nested" in error["message"]


def test_it_accepts_nesting_up_to_the_limit_in_fields_it_does_not_read(hook: Hook) -> None:
    body = payload([alert("web-1")])
    inner: Any = "deep"
    for _ in range(MAX_DEPTH - 1):  # the body itself is level 1
        inner = [inner]
    body["extra"] = inner

    assert hook.post(body).status_code == 200


def test_it_counts_brackets_inside_strings_as_text(hook: Hook) -> None:
    body = payload([alert("web-1", note="[" * 5000 + '\\"{' * 100)])

    assert hook.post(body).status_code == 200


@pytest.mark.parametrize(
    "key, value",
    [("receiver", 5), ("externalURL", ["x"]), ("groupKey", 1.5), ("groupLabels", "x"), ("commonAnnotations", [1])],
)
def test_it_type_checks_every_top_level_string_field(hook: Hook, key: str, value: Any) -> None:
    refused(hook.post(payload([alert("web-1")], **{key: value})), key)


@pytest.mark.parametrize("key, value", [("generatorURL", 0), ("fingerprint", 12), ("endsAt", 0), ("startsAt", 7)])
def test_it_type_checks_every_alert_string_field(hook: Hook, key: str, value: Any) -> None:
    body = payload([alert("web-1")])
    body["alerts"][0][key] = value

    refused(hook.post(body), f"alerts[0].{key}", "must be a string")
