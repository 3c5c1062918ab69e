"""Whom a level's targets reach at a given time (docs/escalation.md, "Targets").

A user is reached through their contact methods (a Slack user id becomes a direct message, an
email address, a PagerDuty routing key); a schedule through whoever ``oncall_at`` says is on call
at that moment, then their contact methods; a Slack channel, a routing key or addresses directly.
What cannot be reached (nobody on call, a user without contact methods, a deleted schedule, a
channel not installed) is a *gap*: the other targets are still paged and the gap is written on the
timeline, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


def resolve(targets: Sequence[Target], *, at: datetime) -> Reached:
    """Whom ``targets`` reach at ``at``: a fixed number of queries, however many people."""
    return Resolver(targets, since=at).resolve(targets, at=at)


class Resolver:
    """Resolves targets at one or more times, each row read once: the targets' users and
    schedules (layers, participants and the overrides not over by ``since``) when it is made, then
    per :meth:`resolve` one query for the contact methods of people not met before. So a tick, a
    page, and an incident's plan of up to 50 steps each cost a handful of queries, whether a
    schedule puts one person on call or forty."""

    def __init__(self, targets: Iterable[Target], *, since: datetime) -> None:
        targets = list(targets)
        usernames = {str(t.value) for t in targets if t.type == "user"}
        schedule_ids = {int(t.value) for t in targets if t.type == "schedule" and str(t.value).isdigit()}
        user_model = get_user_model()
        self.users: dict[str, AbstractBaseUser] = {
            user.get_username(): user
            for user in (user_model.objects.filter(username__in=usernames, is_active=True) if usernames else [])
        }
        self.schedules: dict[int, Schedule] = {
            schedule.pk: schedule
            for schedule in (Schedule.objects.filter(pk__in=schedule_ids).prefetch_related(
                Prefetch("layers__participants", queryset=LayerParticipant.objects.select_related("user")),
                Prefetch("overrides", queryset=Override.objects.filter(ends_at__gt=since).select_related("user")),
            ) if schedule_ids else [])
        }
        self.methods: dict[int, list[ContactMethod]] = {}

    def resolve(self, targets: Sequence[Target], *, at: datetime) -> Reached:
        reached = Reached()
        # First who each target names, then their contact methods in one query, then the pairs.
        named: list[tuple[Target, dict[str, Any], list[AbstractBaseUser]]] = []
        for target in targets:
            entry: dict[str, Any] = {"type": target.type, "value": target.value, "label": "", "people": [],
                                     "via": []}
            people: list[AbstractBaseUser] = []
            if target.type == "pagerduty":
                entry["value"] = shown("pagerduty", str(target.value))
            if target.type == "user":
                entry["label"] = str(target.value)
                user = self.users.get(str(target.value))
                if user is None:
                    reached.gaps.append(f"user {target.value} does not exist or is deactivated")
                else:
                    people.append(user)
            elif target.type == "schedule":
                schedule = self.schedules.get(int(target.value)) if str(target.value).isdigit() else None
                entry["label"] = f"schedule {schedule.name}" if schedule else f"schedule #{target.value}"
                if schedule is None:
                    reached.gaps.append(f"schedule #{target.value} no longer exists")
                else:
                    people = list(oncall_at(schedule, at))
                    if not people:
                        reached.gaps.append(f"schedule {schedule.name} has nobody on call")
            named.append((target, entry, people))
        self._load_methods([p.pk for _, _, people in named for p in people])
        for target, entry, people in named:
            if target.type in ("user", "schedule"):
                for user in people:
                    self._person(user, entry, reached)
            else:
                channel = CHANNEL_OF[target.type]
                value = str(target.value)
                entry["label"] = _label(target.type, channel, value)
                _add(channel, value, entry, reached, who=entry["label"])
            reached.targets.append(entry)
        return reached

    def _load_methods(self, user_ids: list[Any]) -> None:
        missing = {pk for pk in user_ids if pk not in self.methods}
        if not missing:
            return
        for pk in missing:
            self.methods[pk] = []
        for method in ContactMethod.objects.filter(user_id__in=missing).order_by("user_id", "id"):
            self.methods[method.user_id].append(method)

    def _person(self, user: AbstractBaseUser, entry: dict[str, Any], reached: Reached) -> None:
        name = user.get_username()
        entry["people"].append(name)
        methods = self.methods.get(user.pk, [])
        before = len(entry["via"])
        for method in methods:
            channel = CHANNEL_OF.get(method.kind)
            if channel is not None:
                _add(channel, method.value, entry, reached, who=name)
        if not methods:
            reached.gaps.append(f"{name} has no contact method")
        elif len(entry["via"]) == before:
            reached.gaps.append(f"none of {name}'s contact methods can be sent to here")


def _label(kind: str, channel: str, value: str) -> str:
    if kind == "slack_channel":
        return value if value.startswith("#") else f"Slack {value}"
    if kind == "pagerduty":
        return f"PagerDuty {shown(channel, value)}"
    return value


def _add(channel: str, value: str, entry: dict[str, Any], reached: Reached, *, who: str) -> None:
    if registry.message_channel(channel) is None:
        reached.gaps.append(f"{who}: the {channel} channel is not installed")
        return
    pair = (channel, value)
    if pair not in reached.pairs:
        reached.pairs.append(pair)
    entry["via"].append(f"{channel}:{shown(channel, value)}")
