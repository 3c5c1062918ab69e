"""Integration tokens: created and rotated here, shown once, stored only as a SHA-256 hash
(the hashing is shared with API tokens: ``opsportal.lib.tokens``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.tokens import digests_match, hash_token, visible_prefix
from opsportal.lib.tokens import generate_token as _generate

from .models import Integration

TOKEN_PREFIX = "amk_"  # says what the secret is when it turns up in a config file or a log


def generate_token() -> str:
    return _generate(TOKEN_PREFIX)


def integration_for_token(token: str) -> Integration | None:
    """The integration this bearer token belongs to (enabled or not), or None."""
    if not token:
        return None
    digest = hash_token(token)
    integration = Integration.objects.filter(token_hash=digest).first()
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
def integration_create(*, name: str, **fields: Any) -> tuple[Integration, str]:
    """Create an integration and return it with its token, which is never shown again.

    ``fields`` are other Integration fields (default_service, grouping, group_by_labels,
    severity_mapping, auto_resolve, reopen_window, inactivity_timeout, ...). Raises
    ApplicationError naming the field when they are not valid or the name is taken.
    """
    name = (name or "").strip()
    if not name:
        raise ApplicationError("An integration needs a name.", code="invalid", extra={"field": "name"})
    unknown = set(fields) - {f.name for f in Integration._meta.get_fields()}
    if unknown:
        raise ApplicationError(f"Unknown integration fields: {', '.join(sorted(unknown))}.", code="invalid")
    integration = Integration(name=name, **fields)
    token = token_assign(integration)
    _validate(integration)
    try:
        with transaction.atomic():
            integration.save()
    except IntegrityError:
        raise ApplicationError(
            f'An integration named "{name}" already exists.', code="invalid", extra={"field": "name"}
        ) from None
    return integration, token


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


def _validate(integration: Integration) -> None:
    """Model validation plus the rules a form cannot see, as one ApplicationError."""
    try:
        integration.full_clean(exclude=["token_hash", "token_prefix"], validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(f"{field}: {' '.join(messages)}", code="invalid", extra={"field": field}) from None
    integration_settings_validate(integration)


def integration_settings_validate(integration: Integration) -> None:
    """Grouping labels, severity mapping and templates must make sense before a webhook needs them."""
    from .severity import severity_mapping_validate
    from .templating import template_validate

    if integration.grouping == Integration.Grouping.LABELS:
        labels = integration.group_by_labels
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
            raise ApplicationError(
                "Grouping by labels needs a list of label names, e.g. [\"alertname\", \"service\"].",
                code="invalid",
                extra={"field": "group_by_labels"},
            )
    severity_mapping_validate(integration.severity_mapping)
    template_validate(integration.title_template, field="title_template")
    template_validate(integration.description_template, field="description_template")
