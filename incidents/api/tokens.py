"""API tokens for scripts: one per user, sent as ``Authorization: Bearer <token>``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def api_token_issue(*, user: AbstractBaseUser, rotate: bool = False) -> tuple[Token, bool]:
    """The user's token, created if missing. ``rotate`` replaces an existing one, so the old
    token stops working at once. Returns the token and whether it is new."""
    if rotate:
        Token.objects.filter(user_id=user.pk).delete()
    token, created = Token.objects.get_or_create(user_id=user.pk)
    return token, created
