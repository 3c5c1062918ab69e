"""API tokens for scripts: one per user, sent as ``Authorization: Bearer <token>``.

Only a SHA-256 of a token is stored (``opsportal.lib.tokens``), so a token is shown once, when it
is made, and a lost one is replaced, never read back.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from incidents.models import ApiToken
from opsportal.lib.exceptions import ConflictError
from opsportal.lib.tokens import digests_match, generate_token, hash_token, visible_prefix

TOKEN_PREFIX = "opk_"  # says what the secret is when it turns up in a script or a log
# last_used_at is a hint for admins, not an audit log: write it at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def api_token_issue(*, user: AbstractBaseUser, rotate: bool = False) -> tuple[ApiToken, str]:
    """Make the user's token and return the row and the token, which is never shown again.

    A user has one token: ``rotate`` replaces it (the old one stops working as this commits);
    without it an existing token is a ConflictError, since it cannot be read back."""
    existing = ApiToken.objects.select_for_update().filter(user_id=user.pk).first()
    if existing is not None and not rotate:
        raise ConflictError(
            f"{user.get_username()} already has an API token ({existing.prefix}…, made "
            f"{existing.created_at:%Y-%m-%d %H:%M} UTC). It is stored hashed and cannot be shown again; "
            "rotate it to get a new one.",
            code="token_exists",
        )
    token = generate_token(TOKEN_PREFIX)
    fields = {"token_hash": hash_token(token), "prefix": visible_prefix(token), "created_at": timezone.now(),
              "last_used_at": None}
    if existing is None:
        row = ApiToken.objects.create(user_id=user.pk, **fields)
    else:
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.save(update_fields=list(fields))
        row = existing
    return row, token


def api_token_lookup(token: str) -> ApiToken | None:
    """The token row (with its user) for a presented token, or None; notes when it was used."""
    if not token:
        return None
    digest = hash_token(token)
    row = ApiToken.objects.select_related("user").filter(token_hash=digest).first()
    if row is None or not digests_match(row.token_hash, digest):
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row
