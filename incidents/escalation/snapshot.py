"""A policy as the versioned JSON an incident keeps (docs/escalation.md, "Snapshots").

An incident follows the copy of its policy taken when its escalation started, so editing a policy
changes new incidents only. This module is pure: the shape and limits of a policy, the snapshot
dataclasses and which step comes after which. Whether a user or schedule exists is checked by
``policies``; whom a target reaches at a given time, by ``reach``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from opsportal.lib.exceptions import ApplicationError

VERSION = 1
TARGET_TYPES = ("user", "schedule", "slack_channel", "pagerduty", "email")
# A week: longer than any sensible wait for an answer; a typo of minutes as seconds stays possible.
DELAY_MAX_SECONDS = 7 * 24 * 3600
LEVELS_MAX = 20
TARGETS_MAX = 20
REPEAT_MAX = 10
VALUE_MAX = 255
_SLACK_CHANNEL = re.compile(r"^#?[A-Za-z0-9._-]{1,80}$")
_NO_SPACE = re.compile(r"^\S+$")


def invalid(field: str, message: str) -> ApplicationError:
    """The API's 400 naming the field: ``{"error": {"code", "message", "fields": {field: [message]}}}``."""
    return ApplicationError(f"{field}: {message}", code="invalid", extra={"fields": {field: [message]}})


@dataclass(frozen=True)
class Target:
    type: str
    value: str | int

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value}


@dataclass(frozen=True)
class Level:
    delay_seconds: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Step:
    """The next notification: ``level`` (1-based) of pass ``repeat`` (0 is the first), due
    ``delay_seconds`` after the previous one."""

    level: int
    repeat: int
    delay_seconds: int


@dataclass(frozen=True)
class PolicySnapshot:
    policy_id: int | None
    name: str
    repeat: int
    escalate_on_sla_breach: bool
    levels: tuple[Level, ...]

    @property
    def repeat_gap_seconds(self) -> int:
        """A repeat begins again at level 1 as long after the last level as the longest delay of
        the policy, so the last level gets as much time to answer as the slowest one did."""
        return max(level.delay_seconds for level in self.levels)

    def following(self, level: int, repeat: int) -> Step | None:
        """The step after ``level`` of pass ``repeat`` (level 0: nothing sent yet), or None when
        the policy and its repeats are used up."""
        if level < len(self.levels):
            return Step(level + 1, repeat, self.levels[level].delay_seconds)
        if repeat < self.repeat:
            return Step(1, repeat + 1, self.repeat_gap_seconds)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "policy_id": self.policy_id,
            "name": self.name,
            "repeat": self.repeat,
            "escalate_on_sla_breach": self.escalate_on_sla_breach,
            "levels": [{"delay_seconds": lv.delay_seconds, "targets": [t.to_json() for t in lv.targets]}
                       for lv in self.levels],
        }

    @classmethod
    def load(cls, data: dict[str, Any] | None) -> PolicySnapshot | None:
        """The snapshot an incident stores, or None when it has none (no policy)."""
        if not data:
            return None
        if data.get("version") != VERSION:
            raise ValueError(f"escalation snapshot version {data.get('version')!r} is not {VERSION}")
        return cls(
            policy_id=data.get("policy_id"),
            name=str(data["name"]),
            repeat=int(data["repeat"]),
            escalate_on_sla_breach=bool(data["escalate_on_sla_breach"]),
            levels=tuple(Level(int(lv["delay_seconds"]), parse_targets(lv["targets"], "targets"))
                         for lv in data["levels"]),
        )


def parse_delay(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, "Give the delay as a whole number of seconds.")
    if value < 0:
        raise invalid(field, "A delay cannot be negative.")
    if value > DELAY_MAX_SECONDS:
        raise invalid(field, f"A delay is at most {DELAY_MAX_SECONDS} seconds (7 days).")
    return int(value)


def parse_repeat(value: Any, field: str = "repeat") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= REPEAT_MAX:
        raise invalid(field, f"Repeat is a whole number from 0 to {REPEAT_MAX}.")
    return int(value)


def parse_targets(raw: Any, field: str) -> tuple[Target, ...]:
    """The shape of a level's targets: a non-empty list of ``{"type", "value"}`` with a known type
    and a value of the right form for it."""
    if not isinstance(raw, list):
        raise invalid(field, 'Give a list of targets like [{"type": "user", "value": "alice"}].')
    if not raw:
        raise invalid(field, "A level needs at least one target.")
    if len(raw) > TARGETS_MAX:
        raise invalid(field, f"A level has at most {TARGETS_MAX} targets.")
    targets = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict) or set(item) - {"type", "value"}:
            raise invalid(where, 'A target is an object with "type" and "value" only.')
        kind = item.get("type")
        if kind not in TARGET_TYPES:
            raise invalid(f"{where}.type", f"Unknown target type {kind!r}; use one of {', '.join(TARGET_TYPES)}.")
        targets.append(Target(str(kind), _value(str(kind), item.get("value"), f"{where}.value")))
    return tuple(dict.fromkeys(targets))


def _value(kind: str, value: Any, field: str) -> str | int:
    if kind == "schedule":
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise invalid(field, "A schedule is given by its id, a positive whole number.")
        return int(value)
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, f"A {kind.replace('_', ' ')} target needs a non-empty string value.")
    text: str = value.strip()
    if len(text) > VALUE_MAX:
        raise invalid(field, f"At most {VALUE_MAX} characters.")
    if kind == "slack_channel" and not _SLACK_CHANNEL.match(text):
        raise invalid(field, "Give a Slack channel id like C0123ABCD (or #name).")
    if kind in ("pagerduty", "user") and not _NO_SPACE.match(text):
        raise invalid(field, f"A {kind} value has no spaces.")
    if kind == "email":
        addresses = [a.strip() for a in text.split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise invalid(field, f"{address!r} is not an email address.") from None
        return ", ".join(addresses)
    return text
