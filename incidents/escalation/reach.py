"""Whom a level's targets reach at a given time (docs/escalation.md, "Targets").

A user is reached through their contact methods (a Slack user id becomes a direct message, an
email address, a PagerDuty routing key); a schedule through whoever ``oncall_at`` says is on call
at that moment, then their contact methods; a Slack channel, a routing key or addresses directly.
What cannot be reached (nobody on call, a user without contact methods, a deleted schedule, a
channel not installed) is a *gap*: the other targets are still paged and the gap is written on the
timeline, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch

from incidents.oncall.models import ContactMethod, LayerParticipant, Override, Schedule
from incidents.oncall.resolve import oncall_at
from incidents.registry import registry

from .snapshot import Target

# A contact method's kind, or a target type, -> the outbox channel that carries it.
CHANNEL_OF = {"slack": "slack", "slack_channel": "slack", "email": "email", "pagerduty": "pagerduty"}


@dataclass
class Reached:
    """``pairs`` are (channel, target) for the outbox; ``targets`` describe each target as shown
    on the timeline and pages (who it reached, with secrets masked); ``gaps`` say what reached
    nobody and why."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    @property
    def people(self) -> list[str]:
        return list(dict.fromkeys(p for t in self.targets for p in t.get("people", [])))

    def summary(self) -> str:
        parts = [f"{t['label']}" + (f" ({', '.join(t['people'])})" if t.get("people") and t["type"] == "schedule"
                                    else "") for t in self.targets if t["via"]]
        text = ", ".join(parts) or "nobody"
        if self.gaps:
            text += ". Not reached: " + "; ".join(self.gaps)
        return text


def shown(channel: str, target: str) -> str:
    """A target as pages show it (a routing key by its first characters only)."""
    found = registry.message_channel(channel)
    return found.display_target(target) if found is not None else target


def describe(target: Target) -> dict[str, Any]:
    """A target as pages show it without resolving it (a routing key masked)."""
    value = shown("pagerduty", str(target.value)) if target.type == "pagerduty" else target.value
    label = f"schedule #{value}" if target.type == "schedule" else str(value)
    return {"type": target.type, "value": value, "label": label, "people": [], "via": []}


class Lookups:
    """The rows ``resolve`` reads, kept for the next call: the incident page resolves every pending
    step of a plan (a policy repeated three times is a dozen steps naming the same people and
    schedules), and reads each user, contact method list and schedule once instead of per step.
    A schedule comes with its layers and the overrides not yet over at ``since``, so ``oncall_at``
    works in memory for any time after it. Paging itself resolves with fresh reads (no Lookups)."""

    def __init__(self, *, since: datetime) -> None:
        self.since = since
        self._users: dict[str, AbstractBaseUser | None] = {}
        self._schedules: dict[str, Schedule | None] = {}
        self._methods: dict[Any, list[ContactMethod]] = {}

    def user(self, username: object) -> AbstractBaseUser | None:
        key = str(username)
        if key not in self._users:
            self._users[key] = get_user_model().objects.filter(username=key, is_active=True).first()
        return self._users[key]

    def schedule(self, pk: object) -> Schedule | None:
        key = str(pk)
        if key not in self._schedules:
            self._schedules[key] = Schedule.objects.filter(pk=key).prefetch_related(
                Prefetch("layers__participants", queryset=LayerParticipant.objects.select_related("user")),
                Prefetch("overrides", queryset=Override.objects.filter(ends_at__gt=self.since).select_related("user")),
            ).first()
        return self._schedules[key]

    def methods(self, user: AbstractBaseUser) -> list[ContactMethod]:
        if user.pk not in self._methods:
            self._methods[user.pk] = _methods(user)
        return self._methods[user.pk]


def resolve(targets: Sequence[Target], *, at: datetime, lookups: Lookups | None = None) -> Reached:
    """``lookups``: rows already read for earlier steps of the same plan (``at`` at or after its
    ``since``); without it every row is read now."""
    reached = Reached()
    user_model = get_user_model()
    for target in targets:
        entry: dict[str, Any] = {"type": target.type, "value": target.value, "label": "", "people": [], "via": []}
        if target.type == "pagerduty":
            entry["value"] = shown("pagerduty", str(target.value))
        if target.type == "user":
            entry["label"] = str(target.value)
            user = (lookups.user(target.value) if lookups is not None
                    else user_model.objects.filter(username=target.value, is_active=True).first())
            if user is None:
                reached.gaps.append(f"user {target.value} does not exist or is deactivated")
            else:
                _person(user, entry, reached, lookups)
        elif target.type == "schedule":
            schedule = (lookups.schedule(target.value) if lookups is not None
                        else Schedule.objects.filter(pk=target.value).first())
            entry["label"] = f"schedule {schedule.name}" if schedule else f"schedule #{target.value}"
            if schedule is None:
                reached.gaps.append(f"schedule #{target.value} no longer exists")
            else:
                people = oncall_at(schedule, at)
                if not people:
                    reached.gaps.append(f"schedule {schedule.name} has nobody on call")
                for user in people:
                    _person(user, entry, reached, lookups)
        else:
            channel = CHANNEL_OF[target.type]
            value = str(target.value)
            entry["label"] = _label(target.type, channel, value)
            _add(channel, value, entry, reached, who=entry["label"])
        reached.targets.append(entry)
    return reached


def _label(kind: str, channel: str, value: str) -> str:
    if kind == "slack_channel":
        return value if value.startswith("#") else f"Slack {value}"
    if kind == "pagerduty":
        return f"PagerDuty {shown(channel, value)}"
    return value


def _methods(user: AbstractBaseUser) -> list[ContactMethod]:
    return list(ContactMethod.objects.filter(user_id=user.pk).order_by("id"))


def _person(user: AbstractBaseUser, entry: dict[str, Any], reached: Reached, lookups: Lookups | None = None) -> None:
    name = user.get_username()
    entry["people"].append(name)
    methods = lookups.methods(user) if lookups is not None else _methods(user)
    before = len(entry["via"])
    for method in methods:
        channel = CHANNEL_OF.get(method.kind)
        if channel is not None:
            _add(channel, method.value, entry, reached, who=name)
    if not methods:
        reached.gaps.append(f"{name} has no contact method")
    elif len(entry["via"]) == before:
        reached.gaps.append(f"none of {name}'s contact methods can be sent to here")


def _add(channel: str, value: str, entry: dict[str, Any], reached: Reached, *, who: str) -> None:
    if registry.message_channel(channel) is None:
        reached.gaps.append(f"{who}: the {channel} channel is not installed")
        return
    pair = (channel, value)
    if pair not in reached.pairs:
        reached.pairs.append(pair)
    entry["via"].append(f"{channel}:{shown(channel, value)}")
