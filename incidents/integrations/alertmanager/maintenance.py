"""Maintenance windows: scheduled ahead; while one is active, the alerts it matches are stored and
shown but open no incident and page nobody.

Matchers work like Alertmanager's: ``name`` equals (``=``), differs (``!=``), matches (``=~``) or
does not match (``!~``) a value; regular expressions are anchored at both ends; a label the alert
does not have has the value "". Every matcher of a window must hold; a window with no matchers
matches every alert of its integration (or of every integration, for a global window).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opsportal.lib import memo
from opsportal.lib.actors import Actor, stored_user
from opsportal.lib.exceptions import ApplicationError, ConflictError, NotFoundError
from opsportal.lib.matchers import matchers_match, matchers_parse, matchers_validate

from .models import Integration, MaintenanceWindow

NAME_MAX = 100
COMMENT_MAX = 2_000


# --- matching --------------------------------------------------------------------------------


def window_matches(window: MaintenanceWindow, labels: dict[str, str]) -> bool:
    return matchers_match(window.matchers, labels)


def maintenance_windows_active(*, integration: Integration, at: datetime | None = None) -> list[MaintenanceWindow]:
    """Windows in force at ``at`` (default now) for this integration, global ones included."""
    now = timezone.now()
    at = at or now

    def load() -> list[MaintenanceWindow]:
        return list(
            MaintenanceWindow.objects.filter(ends_at__gt=at)
            .filter(Q(integration__isnull=True) | Q(integration=integration))
            .order_by("starts_at", "pk")
        )

    # The windows not over yet, kept for about a second (``memo.config``); which are in force is
    # decided here, at ``at``, so a window starts and ends on time whatever was kept.
    recent = abs((now - at).total_seconds()) <= 1
    windows = memo.config(("alertmanager.windows", integration.pk), load) if recent else load()
    return [w for w in windows if w.starts_at <= at < w.ends_at]


def maintenance_window_matching(
    windows: list[MaintenanceWindow], labels: dict[str, str]
) -> MaintenanceWindow | None:
    """The first of ``windows`` whose matchers all hold for ``labels``."""
    for window in windows:
        if window_matches(window, labels):
            return window
    return None


# --- services --------------------------------------------------------------------------------


@transaction.atomic
def maintenance_window_create(
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    matchers: list[dict[str, Any]] | str,
    integration: Integration | None = None,
    comment: str = "",
    actor: Actor,
) -> MaintenanceWindow:
    """Schedule a window. ``matchers`` is a list of {"name", "value", "is_regex", "is_equal"} or
    Alertmanager's text form (``service="checkout", instance=~"web-.*"``). Raises ApplicationError
    naming the field: empty name, end not after start, end already past, bad matcher or regex."""
    fields = maintenance_window_clean(name=name, starts_at=starts_at, ends_at=ends_at, matchers=matchers,
                    integration=integration, comment=comment)
    return MaintenanceWindow.objects.create(
        **fields, created_by=stored_user(actor)
    )


@transaction.atomic
def maintenance_window_update(
    *,
    window: MaintenanceWindow | int,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    matchers: list[dict[str, Any]] | str,
    integration: Integration | None = None,
    comment: str = "",
    actor: Actor,
) -> MaintenanceWindow:
    """Change a window with the same rules as creating one (the admin's edit form)."""
    locked = _locked(window)
    fields = maintenance_window_clean(name=name, starts_at=starts_at, ends_at=ends_at, matchers=matchers,
                    integration=integration, comment=comment)
    for field, value in fields.items():
        setattr(locked, field, value)
    locked.save(update_fields=sorted(fields))
    return locked


def maintenance_window_clean(
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    matchers: list[dict[str, Any]] | str,
    integration: Integration | None,
    comment: str,
) -> dict[str, Any]:
    """The rules every entry point shares (pages, API, admin); the cleaned fields, or
    ApplicationError naming the field."""
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "A maintenance window needs a name.")
    if len(name) > NAME_MAX:
        raise _invalid("name", f"The name is {len(name)} characters; the limit is {NAME_MAX}.")
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise _invalid(field, f"{field} must be a date and time with a time zone.")
    if ends_at <= starts_at:
        raise _invalid("ends_at", "The window must end after it starts.")
    if ends_at <= timezone.now():
        raise _invalid("ends_at", "The window ends in the past; schedule one that is still to come.")
    if len(comment or "") > COMMENT_MAX:
        raise _invalid("comment", f"The comment is longer than {COMMENT_MAX} characters.")
    if integration is not None and not isinstance(integration, Integration):
        raise _invalid("integration", "Pick an integration, or none for a global window.")
    return {
        "name": name,
        "integration": integration,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "matchers": matchers_parse(matchers) if isinstance(matchers, str) else matchers_validate(matchers),
        "comment": (comment or "").strip(),
    }


@transaction.atomic
def maintenance_window_end(
    *, window: MaintenanceWindow | int, actor: Actor, at: datetime | None = None
) -> MaintenanceWindow:
    """End an active window now: alerts from here on open incidents again. A window that has not
    started is deleted instead (raises ConflictError saying so); an ended one cannot end again."""
    locked = _locked(window)
    now = at or timezone.now()
    if locked.ends_at <= now:
        raise ConflictError(f'Maintenance window "{locked.name}" has already ended.', code="already_ended")
    if locked.starts_at > now:
        raise ConflictError(
            f'Maintenance window "{locked.name}" has not started yet; delete it instead.', code="not_started"
        )
    locked.ends_at = max(now, locked.starts_at + timedelta(microseconds=1))
    locked.save(update_fields=["ends_at"])
    return locked


@transaction.atomic
def maintenance_window_delete(*, window: MaintenanceWindow | int, actor: Actor) -> None:
    """Remove a window (scheduled, active or past). Alerts it held keep their rows, without the link."""
    _locked(window).delete()


def _locked(window: MaintenanceWindow | int) -> MaintenanceWindow:
    pk = window.pk if isinstance(window, MaintenanceWindow) else window
    try:
        return MaintenanceWindow.objects.select_for_update().get(pk=pk)
    except MaintenanceWindow.DoesNotExist:
        raise NotFoundError(f"Maintenance window #{pk} does not exist.") from None


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", extra={"field": field})
