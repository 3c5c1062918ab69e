"""Fixtures for the Alertmanager tests; personas and signed-in clients are in tests/conftest.py."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import Group, Permission, User

from .webhook_support import hook  # noqa: F401 - a fixture, used by name


@pytest.fixture
def allow_loopback(settings: LazySettings) -> None:
    """The real Alertmanager and the contract servers of these tests listen on 127.0.0.1, which the
    outbound policy refuses by default: allow it as an operator with a same-host Alertmanager would."""
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]


def grant_silences(user: User) -> User:
    """Put ``user`` in the Responders group (migration 0003), recreated when a transactional
    test flushed it."""
    group, _ = Group.objects.get_or_create(name="Responders")
    group.permissions.add(Permission.objects.get(content_type__app_label="alertmanager", codename="manage_silences"))
    user.groups.add(group)
    return user


@pytest.fixture
def responder_may_silence(responder: User) -> User:
    """The responder persona, in the Responders group: may create and expire silences."""
    return grant_silences(responder)
