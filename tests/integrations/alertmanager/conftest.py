"""Personas for the Alertmanager pages' tests."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def staff(django_user_model):  # type: ignore[no-untyped-def]
    # No password: the tests sign in with force_login, and hashing one costs a second per test.
    return django_user_model.objects.create_user("admin", "admin@example.com", None, is_staff=True)


@pytest.fixture
def staff_client(staff) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def responder_client(responder) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(responder)
    return client


@pytest.fixture
def allow_loopback(settings):  # type: ignore[no-untyped-def]
    """The real Alertmanager and the contract servers of these tests listen on 127.0.0.1, which the
    outbound policy refuses by default: allow it as an operator with a same-host Alertmanager would."""
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]


def grant_silences(user):  # type: ignore[no-untyped-def]
    """Put ``user`` in the Responders group (migration 0003), recreated when a transactional
    test flushed it."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name="Responders")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="alertmanager", codename="manage_silences")
    )
    user.groups.add(group)
    return user


@pytest.fixture
def responder_may_silence(responder):  # type: ignore[no-untyped-def]
    """The responder persona, in the Responders group: may create and expire silences."""
    return grant_silences(responder)


# The webhook test client, for every test module in this folder.
from .webhook_support import hook  # noqa: E402,F401
