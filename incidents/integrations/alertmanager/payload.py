"""Validate and parse an Alertmanager webhook body (payload version "4", docs/alertmanager.md section 1).
Grafana Alerting's webhook contact point sends the same shape as version "1", with links and a few
extra fields (docs/grafana.md); it is accepted too.

Everything is checked before anything is stored, and every problem names the field that caused it
(``alerts[3].labels.severity must be a string``), because Alertmanager logs our 4xx answer and that
log line is all an operator has to go on. Alertmanager retries a 5xx forever, so nothing a sender
can put in a body may reach the database unchecked: numbers are bounded to their column, nesting
depth is bounded (``opsportal.lib.jsonlimits``), every string field is type-checked.

Liberal where the meaning is clear: an alert without ``status`` takes it from ``endsAt`` (an end
in the past means resolved), and an alert repeated identically in one post counts once. The same
fingerprint with different content is still refused: which copy is right is not clear, and
keeping either would silently drop the other.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.jsonlimits import TooDeep, check_depth

SUPPORTED_VERSION = "4"
GRAFANA_VERSION = "1"  # Grafana Alerting's webhook contact point
SENDERS = {SUPPORTED_VERSION: "alertmanager", GRAFANA_VERSION: "grafana"}
STATUSES = ("firing", "resolved")
FINGERPRINT_MAX = 64  # Alert.fingerprint max_length
COUNT_MAX = 2**31 - 1  # PositiveIntegerField's range on every database (WebhookDelivery.truncated_alerts)
# Links Grafana adds per alert (generatorURL is Alertmanager's own and has its own column).
LINK_FIELDS = {"silenceURL": "silence", "dashboardURL": "dashboard", "panelURL": "panel", "imageURL": "image"}
# RFC 3339 as Go's time.Time marshals it: any number of fraction digits (Alertmanager and
# Prometheus send 9), "Z" or a numeric offset, never a missing zone.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)


SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class PayloadError(ApplicationError):
    """The body is not a webhook payload we can store. ``field`` names the offending value."""

    status_code = 400
    code = "invalid_payload"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field} {message}" if field else message, extra={"field": field})
        self.field = field


@dataclass(frozen=True)
class AlertIn:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None  # None: Go zero time (the receiver uses the time it got the alert)
    ends_at: datetime | None  # None: Go zero time "0001-01-01T00:00:00Z", i.e. no end yet
    generator_url: str
    fingerprint: str
    raw_starts_at: str = ""
    raw_ends_at: str = ""
    links: dict[str, str] = field(default_factory=dict)  # Grafana: silence, dashboard, panel, image

    @property
    def firing(self) -> bool:
        return self.status == "firing"

    def as_context(self) -> dict[str, Any]:
        """The alert as templates see it: Alertmanager's own field names, plain values."""
        return {
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": self.raw_starts_at,
            "endsAt": self.raw_ends_at,
            "generatorURL": self.generator_url,
            "fingerprint": self.fingerprint,
            **{key: self.links.get(name, "") for key, name in LINK_FIELDS.items()},
        }


@dataclass(frozen=True)
class Payload:
    version: str
    status: str
    group_key: str
    alerts: list[AlertIn]
    receiver: str = ""
    group_labels: dict[str, str] = field(default_factory=dict)
    common_labels: dict[str, str] = field(default_factory=dict)
    common_annotations: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    truncated_alerts: int = 0
    sender: str = "alertmanager"  # or "grafana" (version "1")


def loads(body: bytes) -> Any:
    """Decode a JSON body strictly: UTF-8 only, at most MAX_DEPTH levels of nesting (checked on
    the bytes before parsing), no NaN or Infinity (not JSON), no NUL characters or unpaired
    surrogates in any string (PostgreSQL refuses all of them)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError("", f"Body is not UTF-8 text (byte {exc.start}).") from None
    try:
        check_depth(body)
    except TooDeep as exc:
        raise PayloadError("", f"{exc} A webhook payload needs about 5.") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_int=_int)
    except PayloadError:
        raise
    except RecursionError:
        raise PayloadError("", "Body is nested too deeply to be a webhook payload.") from None
    except ValueError as exc:
        raise PayloadError("", f"Body is not valid JSON: {exc}.") from None
    # In valid JSON text a NUL or a lone surrogate can only come from a \u escape; without one the
    # decoded strings are storable and the walk over every value can be skipped.
    if SUSPECT_ESCAPE.search(text):
        _check_strings(data)
    return data


def _reject_constant(name: str) -> Any:
    raise PayloadError("", f"Body is not valid JSON: {name} is not a JSON number.")


def _int(text: str) -> int | float:
    """A whole number; one too long for Python's int conversion reads as out of range, like one
    beyond a float's range (1e999 reads as infinity). Such numbers can only matter in a field we
    read, and every one of those is type-checked; elsewhere they stay in the raw text, as they do
    on the fast path (decoding.py: msgspec does not read the numbers of fields it skips)."""
    try:
        return int(text)
    except ValueError:
        return math.inf


def parse_payload(
    data: Any, *, max_alerts: int | None = None, strings_checked: bool = False, now: datetime | None = None
) -> Payload:
    """Check ``data`` (the decoded JSON) and return it as a ``Payload``; raise ``PayloadError``.

    Required: version "4" (Alertmanager) or "1" (Grafana Alerting), status, groupKey, alerts[]
    and, per alert, labels and startsAt. Everything else has Alertmanager's empty default; an
    alert's missing status comes from its endsAt, compared with ``now``. ``max_alerts`` makes a
    larger list a ``PayloadTooLarge`` (413) instead of a slow request. ``strings_checked``:
    ``data`` came from ``loads``, which already refused text PostgreSQL cannot store.
    """
    now = now or datetime.now(UTC)
    if not isinstance(data, dict):
        raise PayloadError("", f"Body must be a JSON object, not {_kind(data)}.")
    if not strings_checked:
        _check_strings(data)
    version = _required(data, "version")
    if not isinstance(version, str) or version not in SENDERS:
        raise PayloadError(
            "version",
            f'must be "{SUPPORTED_VERSION}" (Alertmanager webhook payload version 4) or "{GRAFANA_VERSION}" '
            f"(Grafana Alerting's webhook contact point), not {_show(version)}.",
        )
    status = _status(_required(data, "status"), "status")
    group_key = _string(_required(data, "groupKey"), "groupKey")
    raw_alerts = _required(data, "alerts")
    if not isinstance(raw_alerts, list):
        raise PayloadError("alerts", f"must be a list, not {_kind(raw_alerts)}.")
    if max_alerts is not None and len(raw_alerts) > max_alerts:
        raise PayloadTooLarge(f"The payload has {len(raw_alerts)} alerts; the limit is {max_alerts}.")
    truncated = _count(data.get("truncatedAlerts"), "truncatedAlerts")
    alerts = distinct_alerts([_alert(item, f"alerts[{i}]", now) for i, item in enumerate(raw_alerts)])
    return Payload(
        version=version,
        status=status,
        group_key=group_key,
        alerts=alerts,
        receiver=_optional_string(data, "receiver", ""),
        group_labels=_string_map(data.get("groupLabels"), "groupLabels"),
        common_labels=_string_map(data.get("commonLabels"), "commonLabels"),
        common_annotations=_string_map(data.get("commonAnnotations"), "commonAnnotations"),
        external_url=_optional_string(data, "externalURL", ""),
        truncated_alerts=truncated,
        sender=SENDERS[version],
    )


class PayloadTooLarge(ApplicationError):
    status_code = 413
    code = "too_large"


def parse_timestamp(value: str, name: str) -> datetime | None:
    """RFC 3339 to an aware UTC datetime. Go's zero time (year 1) means "not set" and gives None.

    Fractions beyond microseconds (Prometheus sends nanoseconds) are truncated, not rounded, so
    the same instant always maps to the same stored value.
    """
    try:
        return _parse_timestamp(value)
    except _BadTimestamp as exc:
        raise PayloadError(name, str(exc)) from None


class _BadTimestamp(ValueError):
    pass


@functools.lru_cache(maxsize=4096)
def _parse_timestamp(value: str) -> datetime | None:
    """Kept per string: a storm repeats the same few startsAt values thousands of times."""
    match = _TIMESTAMP.match(value)
    if not match:
        raise _BadTimestamp(f"must be an RFC 3339 timestamp like 2026-11-23T09:03:06Z, not {_show(value)}.")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone in ("Z", "z"):
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise _BadTimestamp(f"has an impossible time zone offset {zone}.")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    if int(year) <= 1:
        return None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _BadTimestamp(f"is not a real date and time: {_show(value)}.") from None


def fingerprint_for(labels: dict[str, str]) -> str:
    """A stable id from the label set, for senders that do not send a fingerprint."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# --- helpers ---------------------------------------------------------------------------------


def _count(value: Any, name: str) -> int:
    """A count we store in a PositiveIntegerField: a whole number from 0 to COUNT_MAX (a missing
    or null one is 0). Larger values would fail in the database, not here."""
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= COUNT_MAX:
        raise PayloadError(name, f"must be a whole number from 0 to {COUNT_MAX}, not {_show(value)}.")
    return value


def distinct_alerts(alerts: list[AlertIn]) -> list[AlertIn]:
    """The alerts with identical repeats dropped. A fingerprint repeated with different content
    is refused: keeping either copy would silently drop what the other says."""
    first: dict[str, int] = {}
    kept: list[AlertIn] = []
    for i, alert in enumerate(alerts):
        if alert.fingerprint not in first:
            first[alert.fingerprint] = i
            kept.append(alert)
        elif alerts[first[alert.fingerprint]] != alert:
            raise PayloadError(
                f"alerts[{i}].fingerprint",
                f"repeats alerts[{first[alert.fingerprint]}].fingerprint ({alert.fingerprint}) with different "
                "content; one post may carry an alert once (identical copies are merged).",
            )
    return kept


def _alert(item: Any, name: str, now: datetime) -> AlertIn:
    if not isinstance(item, dict):
        raise PayloadError(name, f"must be an object, not {_kind(item)}.")
    labels = _string_map(_required(item, "labels", name), f"{name}.labels")
    annotations = _string_map(item.get("annotations"), f"{name}.annotations")
    raw_starts = _string(_required(item, "startsAt", name), f"{name}.startsAt")
    raw_ends = _optional_string(item, "endsAt", "", name)
    fingerprint = item.get("fingerprint")
    if fingerprint is not None and fingerprint != "":
        fingerprint = _string(fingerprint, f"{name}.fingerprint")
    return build_alert(
        name, now, status=item.get("status"), labels=labels, annotations=annotations, raw_starts=raw_starts,
        raw_ends=raw_ends, generator_url=_optional_string(item, "generatorURL", "", name),
        fingerprint=fingerprint or None, links=[_optional_string(item, key, "", name) for key in LINK_FIELDS],
    )


def build_alert(
    name: str, now: datetime, *, status: Any, labels: dict[str, str], annotations: dict[str, str],
    raw_starts: str, raw_ends: str, generator_url: str, fingerprint: str | None, links: Sequence[str | None],
) -> AlertIn:
    """An alert from fields whose types are checked (by ``_alert``, or by msgspec in
    decoding.py): its times, its status (from ``endsAt`` when not sent), its fingerprint (from the
    labels when not sent) and its links (``links``: the values of LINK_FIELDS' keys, in order).
    Raises ``PayloadError`` naming the field under ``name``."""
    starts_at = parse_timestamp(raw_starts, f"{name}.startsAt")
    ends_at = parse_timestamp(raw_ends, f"{name}.endsAt") if raw_ends else None
    if starts_at is not None and ends_at is not None and ends_at < starts_at:
        raise PayloadError(f"{name}.endsAt", f"({raw_ends}) is before startsAt ({raw_starts}).")
    if status is None:  # not sent: an end in the past means the sender saw it resolve
        status = "resolved" if ends_at is not None and ends_at <= now else "firing"
    else:
        status = _status(status, f"{name}.status")
    fingerprint = fingerprint or fingerprint_for(labels)
    if len(fingerprint) > FINGERPRINT_MAX:
        raise PayloadError(f"{name}.fingerprint", f"is longer than {FINGERPRINT_MAX} characters.")
    kept = {}
    if any(links):  # most alerts carry none (Alertmanager never does)
        kept = {link: url.strip() for link, url in zip(LINK_FIELDS.values(), links, strict=True) if url and url.strip()}
    return AlertIn(
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        generator_url=generator_url,
        fingerprint=fingerprint,
        raw_starts_at=raw_starts,
        raw_ends_at=raw_ends,
        links=kept,
    )


def _required(data: dict[str, Any], key: str, parent: str = "") -> Any:
    name = f"{parent}.{key}" if parent else key
    if key not in data or data[key] is None:
        raise PayloadError(name, "is required.")
    return data[key]


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(name, f"must be a string, not {_kind(value)}.")
    return value


def _optional_string(data: dict[str, Any], key: str, default: str, parent: str = "") -> str:
    value = data.get(key)
    if value is None:
        return default
    return _string(value, f"{parent}.{key}" if parent else key)


def _status(value: Any, name: str) -> str:
    if value not in STATUSES:
        raise PayloadError(name, f'must be "firing" or "resolved", not {_show(value)}.')
    return str(value)


def _string_map(value: Any, name: str) -> dict[str, str]:
    """Labels and annotations: an object of string to string (a missing or null one is empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(name, f"must be an object of string values, not {_kind(value)}.")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(f"{name}.{key}", f"must be a string, not {_kind(item)}.")
    return value


def _check_strings(data: Any) -> None:
    """Refuse text PostgreSQL cannot store (NUL characters, unpaired surrogates) anywhere in the
    body, including keys we do not read: the raw body is kept too. The walk is cheap; the path of
    a bad value is only worked out once one is found."""
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not _is_storable(value):
                _name_bad_string(data)
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _is_storable(key):
                    _name_bad_string(data)
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)


def _is_storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _name_bad_string(data: Any) -> None:
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, name = stack.pop()
        if isinstance(value, str):
            _storable(value, name or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{name}.{key}" if name else str(key)
                _storable(key, f"key {child!r}")
                stack.append((item, child))
        elif isinstance(value, list):
            stack.extend((item, f"{name}[{i}]") for i, item in enumerate(value))


def _storable(text: str, name: str) -> None:
    if "\x00" in text:
        raise PayloadError(name, "must not contain NUL (\\u0000) characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(name, "contains an unpaired UTF-16 surrogate (not valid Unicode text).") from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
