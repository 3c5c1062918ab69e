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


# The webhook test client, for every test module in this folder.
from .webhook_support import hook  # noqa: E402,F401
