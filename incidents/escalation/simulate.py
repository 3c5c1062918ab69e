"""The policy page's simulator: a sample alert's labels run through routing and the policy, showing
whom each level would reach and when, without opening an incident or sending anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from incidents.models import Service

from . import policies, reach
from .models import EscalationPolicy

STEPS_MAX = 30


@dataclass
class Simulation:
    labels: dict[str, str]
    service: Service | None
    policy: EscalationPolicy | None
    why: str
    steps: list[dict[str, Any]] = field(default_factory=list)


def parse_labels(text: str) -> dict[str, str]:
    """``service=checkout, severity=critical`` (commas or new lines) into labels; a pair without
    ``=`` is a ValueError naming it."""
    labels = {}
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{part.strip()!r} is not name=value")
        labels[key.strip()] = value.strip().strip('"')
    return labels


def simulate(labels: dict[str, str], *, now: datetime | None = None) -> Simulation:
    now = now or timezone.now()
    name = labels.get("service", "")
    service = Service.objects.filter(name__iexact=name).first() if name else None
    policy = policies.policy_for(service=service)
    if service is not None and service.escalation_policy_id:
        why = f"service {service.name} names it"
    elif policy is not None:
        why = ("the default policy" + (f" (service {service.name} names none)" if service else
                                       f" (no service named {name!r})" if name else " (no service label)"))
    else:
        why = "no policy: the service names none and there is no default"
    result = Simulation(labels, service, policy, why)
    if policy is None or not policy.levels.exists():
        return result
    snapshot = policies.snapshot_of(policy)
    level, repeat, at = 0, 0, now
    resolver = reach.Resolver((t for lv in snapshot.levels for t in lv.targets), since=now)
    while len(result.steps) < STEPS_MAX:
        step = snapshot.following(level, repeat)
        if step is None:
            break
        at = at + timedelta(seconds=step.delay_seconds)
        reached = resolver.resolve(snapshot.levels[step.level - 1].targets, at=at)
        result.steps.append({"level": step.level, "repeat": step.repeat, "at": at, "after": at - now,
                             "targets": reached.targets, "gaps": reached.gaps})
        level, repeat = step.level, step.repeat
    return result
