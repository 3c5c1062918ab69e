"""Integration tokens: created and rotated here, shown once, stored only as a SHA-256 hash
(the hashing is shared with API tokens: ``opsportal.lib.tokens``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from opsportal.lib import memo
from opsportal.lib.tokens import digests_match, hash_token, visible_prefix
from opsportal.lib.tokens import generate_token as _generate

from .models import Integration

TOKEN_PREFIX = "amk_"  # says what the secret is when it turns up in a config file or a log


def generate_token() -> str:
    return _generate(TOKEN_PREFIX)


def integration_for_token(token: str) -> Integration | None:
    """The integration this bearer token belongs to (enabled or not), or None.

    Every webhook post asks, so the answer is kept in the process like other configuration
    (``memo.config``, CONFIG_CACHE_SECONDS): a token rotated, or an integration disabled or
    deleted, stops working at once in the process that saved the change and within that many
    seconds in the others. Unknown tokens are not kept."""
    if not token:
        return None
    digest = hash_token(token)
    integration = memo.config(("alertmanager.integration_by_token", digest),
                              lambda: Integration.objects.filter(token_hash=digest).first(), keep_none=False)
    if integration is None or not digests_match(integration.token_hash, digest):
        return None
    return integration


def token_assign(integration: Integration) -> str:
    """Give an unsaved integration a fresh token (hash and prefix) and return the token; for
    callers that save the row themselves (the admin). Others use integration_create."""
    token = generate_token()
    integration.token_hash = hash_token(token)
    integration.token_prefix = visible_prefix(token)
    return token


@transaction.atomic
def integration_rotate_token(*, integration: Integration) -> str:
    """Replace the token; the old one stops working as this commits. Returns the new token."""
    locked = Integration.objects.select_for_update().get(pk=integration.pk)
    token = token_assign(locked)
    locked.token_rotated_at = timezone.now()
    locked.save(update_fields=["token_hash", "token_prefix", "token_rotated_at"])
    integration.token_hash, integration.token_prefix = locked.token_hash, locked.token_prefix
    integration.token_rotated_at = locked.token_rotated_at
    return token
