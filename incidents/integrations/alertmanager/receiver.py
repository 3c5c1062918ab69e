"""Where Alertmanager sends its notifications, and the ``receivers:`` entry an operator pastes into
alertmanager.yml. The one place the webhook URL is built: pages, admin, commands and demo data
all call :func:`webhook_url`."""

from __future__ import annotations

import re

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Integration


def webhook_url() -> str:
    return f"{settings.PUBLIC_HOOKS_URL}{reverse('alertmanager-webhook')}"


def receiver_name(integration: Integration) -> str:
    return "opsportal-" + (
        re.sub(r"[^a-z0-9]+", "-", integration.name.lower()).strip("-") or str(integration.pk)
    )


def receiver_snippet(integration: Integration, token: str | None) -> str:
    """The receiver entry with the bearer token when it is known (shown once), else a placeholder
    (docs/alertmanager.md, "Connecting Alertmanager")."""
    text = render_to_string(
        "alertmanager/receiver_snippet.yml",
        {"receiver": receiver_name(integration), "url": webhook_url(), "token": token},
    )
    return text.strip() + "\n"
