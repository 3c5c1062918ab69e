"""Login throttling (django-axes): repeated failures lock one username from one address, through
the real sign-in page."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

LOGIN = "/accounts/login/"
GOOD = "correct-horse-9"


def _sign_in(client: Client, password: str, username: str = "responder", address: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@override_settings(AXES_FAILURE_LIMIT=3)
def test_it_locks_the_account_from_that_address_after_repeated_failures(responder) -> None:
    client = Client()
    for _ in range(2):
        assert _sign_in(client, "wrong").status_code == 200  # the form again, with its error

    locked = _sign_in(client, "wrong")

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 15 * 60
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "locked for 15 minutes" in locked.content.decode()
    assert "registration/locked_out.html" in [t.name for t in locked.templates]
    # Even the right password is refused while the lock lasts, and no session is made.
    right = _sign_in(client, GOOD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_lock_is_for_that_username_and_address_only(responder, other_responder) -> None:
    for _ in range(3):
        _sign_in(Client(), "wrong")

    assert _sign_in(Client(), GOOD, address="198.51.100.9").status_code == 302  # same user, elsewhere
    assert _sign_in(Client(), GOOD, username="second").status_code == 302  # same address, other user


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_successful_sign_in_resets_the_count(responder) -> None:
    client = Client()
    _sign_in(client, "wrong")
    _sign_in(client, "wrong")
    assert _sign_in(client, GOOD).status_code == 302
    client.logout()

    _sign_in(client, "wrong")
    _sign_in(client, "wrong")

    assert _sign_in(client, GOOD).status_code == 302


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cooloff(responder, settings) -> None:
    from datetime import timedelta

    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        _sign_in(Client(), "wrong")
    assert _sign_in(Client(), GOOD).status_code == 429

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))

    assert _sign_in(Client(), GOOD).status_code == 302
