"""Escalation fixtures: people with contact methods, a schedule, and policies built through the
same service the API uses.

Schedules come from the oncall app; who is on call is decided there (``oncall_at``). Tests that
need someone on call set it with ``on_call`` (the one fake: the rotation itself is the oncall
app's to test); everything else (users, contact methods, Slack, email, the outbox) is real.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User

from incidents.escalation import policies, reach
from incidents.escalation.models import EscalationPolicy
from incidents.oncall.models import ContactMethod, Schedule
from tests.incidents.api.conftest import api  # noqa: F401 - a Bearer-token client
from tests.notifications.conftest import recorder  # noqa: F401 - a channel that keeps what it is asked to send

MakePolicy = Callable[..., EscalationPolicy]


def _person(username: str, slack_id: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com")
    ContactMethod.objects.create(user=user, kind="slack", value=slack_id)
    ContactMethod.objects.create(user=user, kind="email", value=f"{username}@example.com")
    return user


@pytest.fixture
def alice(db: None) -> User:
    return _person("alice", "U0ALICE")


@pytest.fixture
def bob(db: None) -> User:
    return _person("bob", "U0BOB")


@pytest.fixture
def schedule(db: None) -> Schedule:
    return Schedule.objects.create(name="Primary", time_zone="Europe/London")


@pytest.fixture
def on_call(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[User]]:
    """``on_call[schedule.pk] = [user]`` puts ``user`` on call on that schedule, at any time."""
    rota: dict[int, list[User]] = {}

    def oncall_at(schedule: Schedule, at: datetime) -> list[User]:
        return list(rota.get(schedule.pk, []))

    monkeypatch.setattr(reach, "oncall_at", oncall_at)
    return rota


@pytest.fixture
def make_policy(db: None) -> MakePolicy:
    def make(*levels: tuple[int, list[dict[str, Any]]], name: str = "Payments", **extra: Any) -> EscalationPolicy:
        data = {"name": name, "levels": [{"delay_seconds": d, "targets": t} for d, t in levels], **extra}
        return policies.policy_save(data=data)

    return make
