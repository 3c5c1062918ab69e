"""Property tests over payload shapes: whatever arrives, the webhook never answers 500. It answers
2xx, or 4xx with a message saying what is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.integrations.alertmanager.models import Alert

from .webhook_support import Hook, alert, payload

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

awkward_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "\u0000", "a\u0000b", "\ud800", "\udfff x", "\U0001f525", "é", "\\", '"', "{}", "null"]),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), awkward_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(awkward_text, children, max_size=4)),
    max_leaves=12,
)
timestamps = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)).map(
        lambda d: d.isoformat().replace("+00:00", "Z")
    ),
    st.sampled_from([
        "0001-01-01T00:00:00Z", "2026-11-23T09:03:18.359775292Z", "2026-11-23T09:03:06+05:30",
        "2026-11-23T09:03:06", "9999-12-31T23:59:59-01:00", "2026-02-29T00:00:00Z", "",
    ]),
    awkward_text,
)
label_maps = st.one_of(
    st.dictionaries(st.sampled_from(["alertname", "instance", "severity", "service", "x"]), awkward_text, max_size=5),
    json_values,
)


@st.composite
def alerts(draw: Any) -> Any:
    base = alert(draw(st.sampled_from(["web-1", "web-2", "db-1"])))
    base["status"] = draw(st.one_of(st.sampled_from(["firing", "resolved"]), json_values))
    base["labels"] = draw(label_maps)
    base["annotations"] = draw(label_maps)
    base["startsAt"] = draw(st.one_of(timestamps, json_values))
    base["endsAt"] = draw(st.one_of(timestamps, json_values))
    base["fingerprint"] = draw(st.one_of(st.sampled_from(["aaaa", "bbbb", "f7ca8b2ae37f4b50", "", "x" * 65]), json_values))
    for key in draw(st.lists(st.sampled_from(list(base)), max_size=2, unique=True)):
        del base[key]
    return base


@st.composite
def payloads(draw: Any) -> Any:
    body = payload(draw(st.lists(alerts(), max_size=4)))
    for key in draw(st.lists(st.sampled_from(list(body)), max_size=2)):
        body[key] = draw(json_values)
    for key in draw(st.lists(st.sampled_from(list(body)), max_size=1, unique=True)):
        del body[key]
    if draw(st.booleans()):
        body[draw(awkward_text)] = draw(json_values)
    return body


def check(response: Any) -> None:
    assert response.status_code < 500, response.content[:500]
    body = response.json()
    if response.status_code >= 400:
        assert body["status"] == "error" and body["error"]["message"].strip()
    else:
        assert body["status"] == "ok" and body["action"]


def encode(value: Any) -> bytes:
    # ensure_ascii escapes lone surrogates as \\udXXX instead of failing to encode them
    return json.dumps(value, ensure_ascii=True).encode()


@PROPERTY_SETTINGS
@given(body=payloads())
def test_it_never_fails_with_500_on_payload_shapes(hook: Hook, body: Any) -> None:
    check(hook.post(encode(body)))


@PROPERTY_SETTINGS
@given(body=json_values)
def test_it_never_fails_with_500_on_any_json(hook: Hook, body: Any) -> None:
    check(hook.post(encode(body)))


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=200))
def test_it_never_fails_with_500_on_any_bytes(hook: Hook, body: bytes) -> None:
    check(hook.post(body, CONTENT_TYPE="application/json"))


@PROPERTY_SETTINGS
@given(posts=st.lists(st.lists(alerts(), min_size=1, max_size=3), min_size=1, max_size=4))
def test_it_keeps_one_row_per_fingerprint_per_incident_over_any_sequence(hook: Hook, posts: Any) -> None:
    for batch in posts:
        check(hook.post(encode(payload(batch))))
    rows = list(Alert.objects.values_list("incident_id", "fingerprint"))
    assert len(rows) == len(set(rows))


# --- numbers, nesting and senders: poison that is otherwise a perfectly valid post -------------

grafana_links = st.fixed_dictionaries(
    {},
    optional={
        name: st.one_of(st.sampled_from(["", "https://grafana.example.org/d/x", "javascript:alert(1)"]), json_values)
        for name in ("silenceURL", "dashboardURL", "panelURL", "imageURL", "values", "valueString", "orgId")
    },
)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@st.composite
def poisoned_valid_posts(draw: Any) -> Any:
    batch = [alert(name) for name in draw(st.lists(st.sampled_from(["web-1", "web-2", "db-1"]), min_size=1, max_size=3))]
    for item in batch:
        item.update(draw(grafana_links))
        if draw(st.booleans()):
            del item["status"]
    body = payload(batch, version=draw(st.sampled_from(["4", "1"])))
    body["truncatedAlerts"] = draw(st.one_of(st.integers(min_value=-(2**64), max_value=2**64), st.just(2**31 - 1)))
    if draw(st.booleans()):
        body["extra"] = nested(draw(st.integers(min_value=1, max_value=1200)))
    if draw(st.booleans()):
        body.update({"orgId": draw(json_values), "title": draw(json_values), "state": "alerting", "message": "m"})
    return body


@PROPERTY_SETTINGS
@given(body=poisoned_valid_posts())
def test_it_never_fails_with_500_on_big_numbers_deep_nesting_or_grafana_fields(hook: Hook, body: Any) -> None:
    response = hook.post(encode(body))

    check(response)
    if response.status_code == 200:
        assert 0 <= body["truncatedAlerts"] <= 2**31 - 1
        for stored in Alert.objects.all():
            assert all(isinstance(url, str) for url in stored.links.values())
