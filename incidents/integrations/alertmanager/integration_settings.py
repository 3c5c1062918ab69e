"""Changing an existing integration: its settings, and switching it on or off.

Creating one and its token live in ``tokens`` (integration_create, integration_rotate_token); these
services never touch the token. Both lock the row, so two staff members saving at once end with
one complete set of settings, never a mix.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from opsportal.lib.exceptions import ApplicationError

from .models import Integration
from .tokens import integration_settings_validate

# What the settings form may change; the token, kind and creation time are not settings.
EDITABLE = frozenset(
    {
        "name",
        "default_service",
        "grouping",
        "group_by_labels",
        "severity_label",
        "severity_mapping",
        "default_severity",
        "title_template",
        "description_template",
        "auto_resolve",
        "reopen_window",
        "inactivity_timeout",
        "alertmanager_url",
    }
)


@transaction.atomic
def integration_update(*, integration: Integration, **fields: Any) -> Integration:
    """Apply ``fields`` (names in EDITABLE) and validate the result as integration_create does.

    Raises ApplicationError naming the field for unknown fields, invalid values, a taken name.
    Webhooks arriving after the commit use the new settings; open incidents keep their severity.
    """
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ApplicationError(
            f"These integration fields cannot be changed here: {', '.join(sorted(unknown))}.", code="invalid"
        )
    locked = Integration.objects.select_for_update().get(pk=integration.pk)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise ApplicationError("An integration needs a name.", code="invalid", extra={"field": "name"})
    for name, value in fields.items():
        setattr(locked, name, value)
    try:
        locked.full_clean(exclude=["token_hash", "token_prefix"], validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(
            f"{field}: {' '.join(messages)}", code="invalid", extra={"field": field}
        ) from None
    integration_settings_validate(locked)
    try:
        with transaction.atomic():
            locked.save(update_fields=sorted(fields))
    except IntegrityError:
        raise ApplicationError(
            f'An integration named "{locked.name}" already exists.', code="invalid", extra={"field": "name"}
        ) from None
    return locked


@transaction.atomic
def integration_set_enabled(*, integration: Integration, enabled: bool) -> Integration:
    """Switch webhook intake on or off. A disabled integration's webhooks get 403, which
    Alertmanager logs and does not retry; alerts sent meanwhile are not stored."""
    locked = Integration.objects.select_for_update().get(pk=integration.pk)
    if locked.enabled != enabled:
        locked.enabled = enabled
        locked.save(update_fields=["enabled"])
    return locked
