"""Maintenance windows: scheduled ahead; while one is active, the alerts it matches are stored and
shown but open no incident and page nobody.

Matchers work like Alertmanager's: ``name`` equals (``=``), differs (``!=``), matches (``=~``) or
does not match (``!~``) a value; regular expressions are anchored at both ends; a label the alert
does not have has the value "". Every matcher of a window must hold; a window with no matchers
matches every alert of its integration (or of every integration, for a global window).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opsportal.lib.exceptions import ApplicationError, ConflictError

from .models import Integration, MaintenanceWindow

NAME_MAX = 100
COMMENT_MAX = 2_000
MATCHERS_MAX = 20
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# name, operator, then a double-quoted (with \" escapes) or bare value
_MATCHER_TEXT = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^,"\s]*))\s*(?:,|$)')


# --- matching --------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern})", re.DOTALL)


def matcher_matches(matcher: dict[str, Any], labels: dict[str, str]) -> bool:
    value = labels.get(matcher["name"], "")
    if matcher.get("is_regex"):
        hit = _compiled(matcher["value"]).fullmatch(value) is not None
    else:
        hit = value == matcher["value"]
    return hit if matcher.get("is_equal", True) else not hit


def window_matches(window: MaintenanceWindow, labels: dict[str, str]) -> bool:
    return all(matcher_matches(m, labels) for m in window.matchers or [])


def maintenance_windows_active(*, integration: Integration, at: datetime | None = None) -> list[MaintenanceWindow]:
    """Windows in force at ``at`` (default now) for this integration, global ones included."""
    at = at or timezone.now()
    return list(
        MaintenanceWindow.objects.filter(starts_at__lte=at, ends_at__gt=at)
        .filter(Q(integration__isnull=True) | Q(integration=integration))
        .order_by("starts_at", "pk")
    )


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
    actor: AbstractBaseUser | None,
) -> MaintenanceWindow:
    """Schedule a window. ``matchers`` is a list of {"name", "value", "is_regex", "is_equal"} or
    Alertmanager's text form (``service="checkout", instance=~"web-.*"``). Raises ApplicationError
    naming the field: empty name, end not after start, end already past, bad matcher or regex."""
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
    clean = matchers_parse(matchers) if isinstance(matchers, str) else matchers_validate(matchers)
    return MaintenanceWindow.objects.create(
        name=name,
        integration=integration,
        starts_at=starts_at,
        ends_at=ends_at,
        matchers=clean,
        comment=(comment or "").strip(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


@transaction.atomic
def maintenance_window_end(
    *, window: MaintenanceWindow | int, actor: AbstractBaseUser | None, at: datetime | None = None
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
def maintenance_window_delete(*, window: MaintenanceWindow | int, actor: AbstractBaseUser | None) -> None:
    """Remove a window (scheduled, active or past). Alerts it held keep their rows, without the link."""
    _locked(window).delete()


def _locked(window: MaintenanceWindow | int) -> MaintenanceWindow:
    pk = window.pk if isinstance(window, MaintenanceWindow) else window
    try:
        return MaintenanceWindow.objects.select_for_update().get(pk=pk)
    except MaintenanceWindow.DoesNotExist:
        raise ApplicationError(f"Maintenance window #{pk} does not exist.", code="not_found") from None


# --- matchers --------------------------------------------------------------------------------


def matchers_validate(matchers: Any) -> list[dict[str, Any]]:
    """Normalise a list of matcher objects; raise ApplicationError naming the bad one."""
    if matchers is None:
        return []
    if not isinstance(matchers, list):
        raise _invalid("matchers", "Matchers must be a list.")
    if len(matchers) > MATCHERS_MAX:
        raise _invalid("matchers", f"At most {MATCHERS_MAX} matchers.")
    clean = []
    for i, m in enumerate(matchers):
        where = f"Matcher {i + 1}"
        if not isinstance(m, dict):
            raise _invalid("matchers", f"{where} must be an object with name and value.")
        name, value = m.get("name"), m.get("value", "")
        is_regex, is_equal = m.get("is_regex", False), m.get("is_equal", True)
        if not isinstance(name, str) or not _LABEL_NAME.match(name):
            raise _invalid("matchers", f"{where}: {name!r} is not a label name (letters, digits and _).")
        if not isinstance(value, str):
            raise _invalid("matchers", f"{where} ({name}): the value must be text.")
        if not isinstance(is_regex, bool) or not isinstance(is_equal, bool):
            raise _invalid("matchers", f"{where} ({name}): is_regex and is_equal must be true or false.")
        if is_regex:
            try:
                re.compile(value)
            except re.error as exc:
                raise _invalid("matchers", f"{where} ({name}): {value!r} is not a regular expression: {exc}.") from None
        clean.append({"name": name, "value": value, "is_regex": is_regex, "is_equal": is_equal})
    return clean


def matchers_parse(text: str) -> list[dict[str, Any]]:
    """Alertmanager's matcher text (``service="checkout", instance=~"web-.*"``, braces optional)
    to matcher objects. Raises ApplicationError showing where parsing stopped."""
    body = (text or "").strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    matchers: list[dict[str, Any]] = []
    pos = 0
    while pos < len(body):
        match = _MATCHER_TEXT.match(body, pos)
        if not match or match.end() == pos:
            raise _invalid("matchers", f'Cannot read the matchers from "{body[pos:pos + 30]}": write name="value".')
        name, op, quoted, bare = match.groups()
        value = re.sub(r'\\(["\\])', r"\1", quoted) if quoted is not None else bare
        matchers.append({"name": name, "value": value, "is_regex": "~" in op, "is_equal": op[0] == "="})
        pos = match.end()
    return matchers_validate(matchers)


def matchers_format(matchers: list[dict[str, Any]]) -> str:
    """Matcher objects back to Alertmanager's text form, for display and form initial values."""
    parts = []
    for m in matchers or []:
        op = ("=" if m.get("is_equal", True) else "!") + ("~" if m.get("is_regex") else "")
        op = {"=": "=", "!": "!=", "=~": "=~", "!~": "!~"}[op]
        value = str(m.get("value", "")).replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'{m.get("name")}{op}"{value}"')
    return ", ".join(parts)


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", extra={"field": field})
