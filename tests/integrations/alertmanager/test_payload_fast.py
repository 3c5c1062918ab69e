"""The webhook's one-pass decoder (``decode_payload``) against the reference path (``loads`` then
``parse_payload``): the same ``Payload`` for every body they take, the same refusal for every body
they refuse. Alertmanager logs our 4xx answer, so a faster path must not change a single word of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.integrations.alertmanager import decoding
from incidents.integrations.alertmanager.decoding import decode_payload
from incidents.integrations.alertmanager.payload import PayloadError, PayloadTooLarge, loads, parse_payload

from .test_webhook_properties import json_values, payloads
from .webhook_support import FIXTURES, alert, captured_bodies, payload

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
GRAFANA = FIXTURES.parent / "grafana"


def reference(body: bytes, max_alerts: int | None = None) -> Any:
    try:
        return parse_payload(loads(body), max_alerts=max_alerts, strings_checked=True, now=NOW)
    except (PayloadError, PayloadTooLarge) as exc:
        return (type(exc), exc.message)


def decoded(body: bytes, max_alerts: int | None = None) -> Any:
    try:
        return decode_payload(body, max_alerts=max_alerts, now=NOW)
    except (PayloadError, PayloadTooLarge) as exc:
        return (type(exc), exc.message)


def real_posts() -> list[bytes]:
    bodies = [b for name in ("run1", "retry_truncate", "resolve_timeout") for b in captured_bodies(name)]
    bodies += [Path(GRAFANA / name).read_bytes() for name in ("firing.json", "resolved.json")]
    return bodies


@pytest.mark.parametrize("body", real_posts())
def test_real_posts_take_the_fast_path_and_parse_as_before(body: bytes) -> None:
    assert decoding._decode_fast(body, None, NOW) is not None
    assert decoded(body) == reference(body)


@pytest.mark.parametrize(("body", "problem"), [
    (b'{"version":"4","status":"firing","groupKey":"g","truncatedAlerts":NaN,"alerts":[]}', "NaN"),
    (b'{"version":"4","status":"firing","groupKey":"g","truncatedAlerts":1e999,"alerts":[]}',
     "truncatedAlerts must be a whole number"),
    (b'{"version":"4","status":"firing","groupKey":"g","truncatedAlerts":' + b"9" * 5000 + b',"alerts":[]}',
     "truncatedAlerts must be a whole number"),
    (b'{"version":"4","status":"firing","groupKey":"g","alerts":[],"x":"a\\u0000"}', "NUL"),
    (b'{"version":"4","status":"firing","groupKey":"g","truncatedAlerts":3.0,"alerts":[]}', "truncatedAlerts"),
    (b'{"version":"4","status":"firing","groupKey":"g","truncatedAlerts":true,"alerts":[]}', "truncatedAlerts"),
    (b'{"version":"4","status":"firing","groupKey":"g","alerts":[{"labels":null,"startsAt":"2026-01-01T00:00:00Z"}]}',
     "alerts[0].labels is required"),
    (b'{"version":"4","status":"firing","groupKey":"g","alerts":[{"labels":{"a":1},"startsAt":"2026-01-01T00:00:00Z"}]}',
     "alerts[0].labels.a must be a string"),
    (b'{"version":"4","status":"firing","groupKey":"g","alerts":[{"labels":{},"startsAt":"yesterday"}]}',
     "alerts[0].startsAt must be an RFC 3339 timestamp"),
    (b'{"version":"3","status":"firing","groupKey":"g","alerts":[]}', "version must be"),
    (b'[' * 40 + b']' * 40, "nested more than"),
    (b'{"version":"4","status":"firing","groupKey":"g","alerts":[]', "not valid JSON"),
    ("{\"version\":\"4\",\"status\":\"firing\",\"groupKey\":\"g\",\"alerts\":[],\"x\":\"\u00e9\"}".encode("latin-1"),
     "not UTF-8"),
])
def test_bad_bodies_get_the_same_answer_naming_the_problem(body: bytes, problem: str) -> None:
    answer = decoded(body)
    assert isinstance(answer, tuple) and problem in answer[1]
    assert answer == reference(body)


def test_numbers_beyond_range_in_fields_we_do_not_read_are_kept_in_the_raw_text_only() -> None:
    body = json.dumps(payload([alert("a")])).encode()[:-1] + b',"x":1e999,"y":' + b"9" * 5000 + b"}"
    answer = decoded(body)
    assert [a.fingerprint for a in answer.alerts] == [a.fingerprint for a in reference(body).alerts]
    assert answer == reference(body)


def test_too_many_alerts_is_too_large_on_both_paths() -> None:
    body = json.dumps(payload([alert("a"), alert("b"), alert("c")])).encode()
    assert decoded(body, max_alerts=2) == reference(body, max_alerts=2)
    assert decoded(body, max_alerts=2)[0] is PayloadTooLarge


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(payloads(), json_values))
def test_any_body_gets_the_same_payload_or_the_same_refusal(body: Any) -> None:
    raw = json.dumps(body, ensure_ascii=True).encode()
    assert decoded(raw) == reference(raw)
