"""An Alertmanager integration's life: created with its token (shown once; ``tokens`` hashes and
rotates it), its settings changed and validated, switched on or off. Changes lock the row, so two
staff members saving at once end with one complete set of settings, never a mix.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from opsportal.lib.exceptions import ApplicationError

from .models import Integration
from .severity import severity_mapping_validate
from .templating import template_validate
from .tokens import token_assign

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
