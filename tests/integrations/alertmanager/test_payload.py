"""Parsing the webhook payload (version 4) into dataclasses, including Go's time quirks."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from incidents.integrations.alertmanager.payload import (
    PayloadError,
    PayloadTooLarge,
    fingerprint_for,
    loads,
    parse_payload,
    parse_timestamp,
)

from .webhook_support import alert, captured, payload

UTC = UTC


def test_it_parses_a_captured_post() -> None:
    parsed = parse_payload(captured("run1")[1]["body"])

    assert parsed.version == "4" and parsed.status == "firing" and parsed.receiver == "django-webhook"
    assert parsed.group_key == '{}:{alertname="HighErrorRate", service="checkout"}'
    assert parsed.group_labels == {"alertname": "HighErrorRate", "service": "checkout"}
    assert parsed.common_annotations == {"summary": "5xx rate above 5%"}
    assert parsed.external_url == "http://vm:9093" and parsed.truncated_alerts == 0
    assert [a.fingerprint for a in parsed.alerts] == ["f7ca8b2ae37f4b50", "35168abc2368c313"]
    first = parsed.alerts[0]
    assert first.firing and first.ends_at is None
    assert first.labels["instance"] == "web-1:8080"
    assert first.as_context()["startsAt"] == "2026-11-23T09:03:06Z"


def test_it_reads_the_go_zero_time_as_no_end() -> None:
    assert parse_timestamp("0001-01-01T00:00:00Z", "endsAt") is None


def test_it_truncates_nanoseconds_to_microseconds() -> None:
    assert parse_timestamp("2026-11-23T09:03:18.359775292Z", "startsAt") == datetime(
        2026, 11, 23, 9, 3, 18, 359775, tzinfo=UTC
    )


def test_it_converts_offsets_to_utc() -> None:
    assert parse_timestamp("2026-11-23T10:33:06.5+01:30", "startsAt") == datetime(
        2026, 11, 23, 9, 3, 6, 500000, tzinfo=UTC
    )


def test_it_computes_a_fingerprint_when_the_sender_gives_none() -> None:
    body = payload([alert("web-1")])
    del body["alerts"][0]["fingerprint"]

    parsed = parse_payload(body)

    assert parsed.alerts[0].fingerprint == fingerprint_for(body["alerts"][0]["labels"])
    assert len(parsed.alerts[0].fingerprint) == 16


def test_it_fills_alertmanagers_empty_defaults() -> None:
    parsed = parse_payload({"version": "4", "status": "firing", "groupKey": "g",
                            "alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "2026-11-23T09:00:00Z"}]})

    assert parsed.common_labels == {} and parsed.truncated_alerts == 0 and parsed.receiver == ""
    assert parsed.alerts[0].annotations == {} and parsed.alerts[0].generator_url == ""


def test_it_names_the_field_of_an_error() -> None:
    body = payload([alert("web-1")])
    body["alerts"][0]["labels"]["severity"] = ["critical"]

    with pytest.raises(PayloadError) as exc:
        parse_payload(body)

    assert exc.value.field == "alerts[0].labels.severity"
    assert exc.value.message == "alerts[0].labels.severity must be a string, not a list."


def test_it_refuses_too_many_alerts_as_too_large() -> None:
    with pytest.raises(PayloadTooLarge, match="3 alerts; the limit is 2"):
        parse_payload(payload([alert("a"), alert("b"), alert("c")]), max_alerts=2)


def test_it_decodes_strictly() -> None:
    with pytest.raises(PayloadError, match="Infinity"):
        loads(b'{"a": Infinity}')
    # Beyond a float's range is still JSON: only a field we read could mind, and those are typed.
    assert loads(b'{"a": 1e999, "b": ' + b"9" * 5000 + b"}") == {"a": math.inf, "b": math.inf}
    with pytest.raises(PayloadError, match="nested more than 32 levels deep"):
        loads(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(PayloadError, match="NUL"):
        loads(b'{"a": {"b": ["x\\u0000"]}}')
    assert loads(b'{"a": "\\\\u0000 is fine when the backslash is escaped"}')["a"].startswith("\\u0000")
