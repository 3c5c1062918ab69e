"""The webhook's decoder: ``parse_payload(loads(body))`` in one pass where it can (payload.py
holds the reference path and every rule).

A well-formed post is decoded and type-checked by msgspec in C (a 200-alert storm post in a
quarter of the time). Anything it does not take as it is (a wrong type, a missing field, a bad
timestamp, a suspect escape) goes through ``loads`` and ``parse_payload``, which name the problem,
so every refusal keeps its wording. Both give the same ``Payload`` for the same body
(tests/integrations/alertmanager/test_payload_fast.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from operator import attrgetter

import msgspec

from opsportal.lib.jsonlimits import TooDeep, check_depth

from .payload import (
    COUNT_MAX,
    LINK_FIELDS,
    SENDERS,
    STATUSES,
    SUSPECT_ESCAPE,
    Payload,
    PayloadError,
    build_alert,
    distinct_alerts,
    loads,
    parse_payload,
)


class _AlertShape(msgspec.Struct):
    labels: dict[str, str]
    startsAt: str
    status: str | None = None
    annotations: dict[str, str] | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None
    silenceURL: str | None = None
    dashboardURL: str | None = None
    panelURL: str | None = None
    imageURL: str | None = None


class _PayloadShape(msgspec.Struct):
    version: str
    status: str
    groupKey: str
    alerts: list[_AlertShape]
    receiver: str | None = None
    groupLabels: dict[str, str] | None = None
    commonLabels: dict[str, str] | None = None
    commonAnnotations: dict[str, str] | None = None
    externalURL: str | None = None
    truncatedAlerts: int | None = None


_SHAPE = msgspec.json.Decoder(_PayloadShape)
_LINKS = attrgetter(*LINK_FIELDS)  # a shape's link values, in LINK_FIELDS' order


def decode_payload(body: bytes, *, max_alerts: int | None = None, now: datetime | None = None) -> Payload:
    """The ``Payload`` of a webhook body; raises ``PayloadError`` (``PayloadTooLarge`` over
    ``max_alerts``) as ``parse_payload(loads(body))`` does."""
    now = now or datetime.now(UTC)
    fast = _decode_fast(body, max_alerts, now)
    if fast is not None:
        return fast
    return parse_payload(loads(body), max_alerts=max_alerts, strings_checked=True, now=now)


def _decode_fast(body: bytes, max_alerts: int | None, now: datetime) -> Payload | None:
    """The payload, or None where the reference path must decide."""
    try:
        check_depth(body)
        if SUSPECT_ESCAPE.search(body.decode("utf-8")):
            return None
        shape = _SHAPE.decode(body)
        truncated = shape.truncatedAlerts or 0
        if (shape.version not in SENDERS or shape.status not in STATUSES or not 0 <= truncated <= COUNT_MAX
                or (max_alerts is not None and len(shape.alerts) > max_alerts)):
            return None
        alerts = distinct_alerts([
            build_alert(
                "", now, status=a.status, labels=a.labels, annotations=a.annotations or {}, raw_starts=a.startsAt,
                raw_ends=a.endsAt or "", generator_url=a.generatorURL or "", fingerprint=a.fingerprint,
                links=_LINKS(a),
            )
            for a in shape.alerts
        ])
    except (UnicodeDecodeError, TooDeep, msgspec.MsgspecError, PayloadError):
        return None
    return Payload(
        version=shape.version,
        status=shape.status,
        group_key=shape.groupKey,
        alerts=alerts,
        receiver=shape.receiver or "",
        group_labels=shape.groupLabels or {},
        common_labels=shape.commonLabels or {},
        common_annotations=shape.commonAnnotations or {},
        external_url=shape.externalURL or "",
        truncated_alerts=truncated,
        sender=SENDERS[shape.version],
    )
