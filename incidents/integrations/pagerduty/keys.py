"""Routing keys are secrets: rows and pages hold references to them, not the keys.

A PagerDuty target (a route's target, and so a delivery's) is either the name of a key defined in
the environment ("default" for PAGERDUTY_ROUTING_KEY, or a name from PAGERDUTY_ROUTING_KEYS), or a
routing key typed into a route as is. Only the sender turns a target into a key; everything shown
or logged goes through ``masked``.
"""

from __future__ import annotations

import re

from django.conf import settings

DEFAULT = "default"
# An Events API v2 integration key: 32 characters of [0-9a-zA-Z] (PagerDuty's "Integration Key").
KEY_RE = re.compile(r"^[0-9A-Za-z]{32}$")
SHOWN = 6
# Anything this long that is not a known name is treated as a (mistyped) key when shown.
LONG = 20


def named_keys() -> dict[str, str]:
    keys = {name.strip(): key.strip() for name, key in settings.PAGERDUTY_ROUTING_KEYS.items() if key.strip()}
    if settings.PAGERDUTY_ROUTING_KEY:
        keys[DEFAULT] = settings.PAGERDUTY_ROUTING_KEY
    return keys


def is_key(value: str) -> bool:
    return bool(KEY_RE.match(value))


def resolve(target: str) -> str | None:
    """The routing key a target stands for, or None when it names no key."""
    keys = named_keys()
    if target in keys:
        return keys[target]
    return target if is_key(target) else None


def masked(target: str) -> str:
    """What pages and logs show: a name as is, a key by its first characters only."""
    if target in named_keys() or (not is_key(target) and len(target) < LONG):
        return target
    return target[:SHOWN] + "…"
