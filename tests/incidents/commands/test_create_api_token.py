"""``manage.py create_api_token``: prints a working token once, on stdout, and stores only its hash."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.models import ApiToken


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_prints_the_token_once_and_stores_only_its_hash(responder) -> None:
    token, note = _run("responder")

    row = ApiToken.objects.get(user=responder)
    assert token.startswith("opk_") and len(token) > 40
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:12]
    stored = [str(v) for v in ApiToken.objects.values_list(flat=False).get()]
    assert token not in stored
    assert "Created" in note and "shown only this once" in note and "Authorization: Bearer" in note


def test_it_cannot_print_an_existing_token_again(responder) -> None:
    first, _ = _run("responder")

    with pytest.raises(CommandError, match="cannot be shown again.*--rotate"):
        _run("responder")
    assert ApiToken.objects.get(user=responder).token_hash == hashlib.sha256(first.encode()).hexdigest()


def test_it_rotates_the_token(responder) -> None:
    old, _ = _run("responder")
    new, note = _run("responder", "--rotate")

    assert new != old
    assert "Rotated" in note
    assert list(ApiToken.objects.filter(user=responder).values_list("token_hash", flat=True)) == [
        hashlib.sha256(new.encode()).hexdigest()
    ]


def test_it_names_an_unknown_user(db) -> None:
    with pytest.raises(CommandError, match='No user named "ghost"'):
        _run("ghost")
    assert not ApiToken.objects.exists()


def test_it_refuses_a_deactivated_user(responder) -> None:
    responder.is_active = False
    responder.save()

    with pytest.raises(CommandError, match='User "responder" is deactivated'):
        _run("responder")
    assert not ApiToken.objects.exists()
