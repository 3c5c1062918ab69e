"""``manage.py create_api_token``: prints a working token, and only the token, on stdout."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_creates_and_prints_the_token(responder) -> None:
    token, note = _run("responder")

    assert token == Token.objects.get(user=responder).key
    assert len(token) == 40
    assert "Created" in note and "Authorization: Bearer" in note


def test_it_prints_the_same_token_again(responder) -> None:
    first, _ = _run("responder")
    second, note = _run("responder")

    assert second == first
    assert "Existing" in note
    assert Token.objects.filter(user=responder).count() == 1


def test_it_rotates_the_token(responder) -> None:
    old, _ = _run("responder")
    new, note = _run("responder", "--rotate")

    assert new != old
    assert "Rotated" in note
    assert list(Token.objects.filter(user=responder).values_list("key", flat=True)) == [new]


def test_it_names_an_unknown_user(db) -> None:
    with pytest.raises(CommandError, match='No user named "ghost"'):
        _run("ghost")
    assert not Token.objects.exists()


def test_it_refuses_a_deactivated_user(responder) -> None:
    responder.is_active = False
    responder.save()

    with pytest.raises(CommandError, match='User "responder" is deactivated'):
        _run("responder")
    assert not Token.objects.exists()
