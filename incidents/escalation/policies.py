"""Creating and changing escalation policies, and choosing an incident's (docs/escalation.md).

Every entry point (API, pages, admin, demo data) goes through ``policy_save``, so every one of them
refuses the same bad input with the same message naming the field: negative or absurd delays, no
levels, an unknown target type, a user or schedule that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from incidents.models import Service
from incidents.oncall.models import Schedule
from opsportal.lib import memo
from opsportal.lib.exceptions import ApplicationError, NotFoundError

from . import snapshot
from .models import EscalationLevel, EscalationPolicy
from .snapshot import Level, PolicySnapshot, Target, invalid

NAME_MAX = 100


def parse_policy(data: dict[str, Any]) -> PolicySnapshot:
    """A policy as an API body describes it (``name``, ``repeat``, ``escalate_on_sla_breach``,
    ``levels``), checked completely; ApplicationError naming the first bad field."""
    if not isinstance(data, dict):
        raise invalid("body", "Give the policy as a JSON object.")
    unknown = set(data) - {"name", "description", "repeat", "escalate_on_sla_breach", "is_default", "levels"}
    if unknown:
        raise invalid(sorted(unknown)[0], "Unknown field.")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("name", "A policy needs a name.")
    if len(name.strip()) > NAME_MAX:
        raise invalid("name", f"At most {NAME_MAX} characters.")
    repeat = snapshot.parse_repeat(data.get("repeat", 0))
    on_breach = data.get("escalate_on_sla_breach", False)
    if not isinstance(on_breach, bool):
        raise invalid("escalate_on_sla_breach", "Must be true or false.")
    raw_levels = data.get("levels")
    if not isinstance(raw_levels, list) or not raw_levels:
        raise invalid("levels", "A policy needs at least one level.")
    if len(raw_levels) > snapshot.LEVELS_MAX:
        raise invalid("levels", f"A policy has at most {snapshot.LEVELS_MAX} levels.")
    levels = []
    for i, raw in enumerate(raw_levels):
        where = f"levels[{i}]"
        if not isinstance(raw, dict) or set(raw) - {"delay_seconds", "targets"}:
            raise invalid(where, 'A level is an object with "delay_seconds" and "targets".')
        delay = snapshot.parse_delay(raw.get("delay_seconds", 0), f"{where}.delay_seconds")
        targets = snapshot.parse_targets(raw.get("targets"), f"{where}.targets")
        for j, target in enumerate(targets):
            check_exists(target, f"{where}.targets[{j}].value")
        levels.append(Level(delay, targets))
    policy = PolicySnapshot(None, name.strip(), repeat, on_breach, tuple(levels))
    if repeat and policy.repeat_gap_seconds == 0:
        raise invalid("repeat", "Repeating needs a level with a delay, or every repeat would page at once.")
    return policy


def check_exists(target: Target, field: str) -> None:
    if target.type == "user":
        if not get_user_model().objects.filter(username=target.value, is_active=True).exists():
            raise invalid(field, f"No active user {target.value!r}.")
    elif target.type == "schedule" and not Schedule.objects.filter(pk=target.value).exists():
        raise invalid(field, f"No schedule #{target.value}.")


@transaction.atomic
def policy_save(*, data: dict[str, Any], policy: EscalationPolicy | None = None) -> EscalationPolicy:
    """Create (``policy`` None) or replace a policy and its levels from ``data``. Incidents already
    escalating keep the snapshot they started with."""
    parsed = parse_policy(data)
    is_default = data.get("is_default", policy.is_default if policy else False)
    if not isinstance(is_default, bool):
        raise invalid("is_default", "Must be true or false.")
    if policy is None:
        policy = EscalationPolicy()
    policy.name = parsed.name
    policy.description = str(data.get("description", policy.description))[:300]
    policy.repeat = parsed.repeat
    policy.escalate_on_sla_breach = parsed.escalate_on_sla_breach
    if is_default:
        EscalationPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(is_default=False)
    policy.is_default = is_default
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise invalid("name", f"A policy named {parsed.name!r} exists already.") from None
    policy.levels.all().delete()
    for order, level in enumerate(parsed.levels, start=1):
        EscalationLevel.objects.create(policy=policy, order=order, delay_seconds=level.delay_seconds,
                                       targets=[t.to_json() for t in level.targets])
    return policy


def policy_data(policy: EscalationPolicy) -> dict[str, Any]:
    """A policy as the API shows it (and as ``policy_save`` takes it back)."""
    return {
        "id": policy.pk,
        "name": policy.name,
        "description": policy.description,
        "repeat": policy.repeat,
        "escalate_on_sla_breach": policy.escalate_on_sla_breach,
        "is_default": policy.is_default,
        "levels": [{"level": lv.order, "delay_seconds": lv.delay_seconds, "targets": lv.targets}
                   for lv in policy.levels.all()],
    }


@transaction.atomic
def policy_delete(*, policy: EscalationPolicy | int) -> None:
    pk = policy.pk if isinstance(policy, EscalationPolicy) else policy
    deleted, _ = EscalationPolicy.objects.filter(pk=pk).delete()
    if not deleted:
        raise NotFoundError(f"Escalation policy #{pk} does not exist.")


def snapshot_of(policy: EscalationPolicy) -> PolicySnapshot:
    """The policy as an incident keeps it. A policy whose levels were emptied in the admin escalates
    nobody, said loudly rather than started and stuck."""
    levels = tuple(Level(lv.delay_seconds, snapshot.parse_targets(lv.targets, "targets"))
                   for lv in policy.levels.all().order_by("order", "id"))
    if not levels:
        raise ApplicationError(f"Escalation policy {policy.name!r} has no levels.", code="invalid",
                               extra={"fields": {"escalation_policy": ["The policy has no levels."]}})
    return PolicySnapshot(policy.pk, policy.name, policy.repeat, policy.escalate_on_sla_breach, levels)


def policy_for(*, service: Service | None, explicit: EscalationPolicy | None = None) -> EscalationPolicy | None:
    """Which policy an incident follows: the one asked for (by the API, or the Alertmanager
    integration that opened it), else its service's, else the default policy (none: the incident
    escalates nobody)."""
    if explicit is not None:
        return explicit
    if service is not None and service.escalation_policy_id is not None:
        return EscalationPolicy.objects.filter(pk=service.escalation_policy_id).first()
    return memo.config("escalation.default_policy", lambda: EscalationPolicy.objects.filter(is_default=True).first())
