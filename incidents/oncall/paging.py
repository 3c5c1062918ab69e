"""Test pages: "send me a test page" writes one outbox message per contact method of the user,
sent and retried like every message (docs/oncall.md, "Test pages"). The user sees each one's
status on their page and marks a method verified when the page reached them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from incidents.notifications.models import Delivery
from incidents.notifications.outbox import direct_message_create
from incidents.registry import registry
from opsportal.lib.exceptions import ApplicationError

from . import selectors

# One test page per user per this many seconds: the button must not become a way to spam a pager.
TEST_PAGE_INTERVAL = timedelta(seconds=30)
SHOWN = 10


def _target(kind: str, value: str) -> str:
    return value  # each kind's value is its channel's target as is (models.ContactMethod)


def _context(user: User) -> dict[str, Any]:
    """What a channel reads where it would read an incident (rendering.incident_context's keys),
    marked as a test so nobody mistakes it for one: no open status, so no Acknowledge button."""
    now = timezone.now()
    return {
        "id": 0, "key": f"test-page-{user.pk}-{int(now.timestamp())}",
        "title": f"Test page for {user.get_username()}", "description": "A test page from Opsportal.",
        "status": "test", "status_label": "Test page", "severity": "TEST", "severity_label": "Test page",
        "severity_colour": "#64748b", "severity_rank": 99, "service": "", "commander": "", "source": "web",
        "labels": {}, "url": settings.PUBLIC_URL + reverse("oncall:me"), "opened_at": now.isoformat(),
        "acknowledged_at": "", "resolved_at": "", "response_due_at": "", "resolve_due_at": "",
        "response_due_at_text": "", "resolve_due_at_text": "", "response_breached": False,
        "resolve_breached": False, "is_open": False, "duration": "", "time_to_acknowledge": "",
    }


def test_page_send(*, user: User) -> int:
    """Queue a test page to each of the user's contact methods; returns how many. Refused when
    the user has none, or sent one moments ago."""
    methods = list(selectors.contact_methods_for_user(user=user))
    if not methods:
        raise ApplicationError("Add a contact method first.", code="invalid", extra={"field": "contact_methods"})
    recent = _test_pages(user).filter(created_at__gt=timezone.now() - TEST_PAGE_INTERVAL).exists()
    if recent:
        raise ApplicationError("A test page was sent moments ago; wait half a minute.", code="throttled")
    context = _context(user)
    text = f"Test page for {user.get_username()} from Opsportal: if you read this, pages reach you here."
    with transaction.atomic():
        for method in methods:
            if registry.message_channel(method.kind) is None:
                continue
            direct_message_create(channel=method.kind, target=_target(method.kind, method.value), text=text,
                                  subject=f"Opsportal test page for {user.get_username()}", context=context)
    return len(methods)


def test_pages_for(*, user: User) -> list[Delivery]:
    """The user's newest test pages, with their status."""
    return list(_test_pages(user).order_by("-created_at")[:SHOWN])


def _test_pages(user: User) -> QuerySet[Delivery]:
    """Direct messages (no incident) to the targets of the user's contact methods."""
    values = list(selectors.contact_methods_for_user(user=user).values_list("value", flat=True))
    return Delivery.objects.filter(incident__isnull=True, target__in=values)
