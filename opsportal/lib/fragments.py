"""Rendered page fragments kept in this process's memory, keyed by the version of what they show.

The incident page's two long lists (a page of 50 alerts, 50 timeline events) look the same to every
viewer until something they show changes, and each has a version token that changes with every such
change: the token its poll already trusts to answer 204 (docs/architecture.md section 8). Keyed by
that token, a rendered list is reused by every request until the version moves on, so twenty people
watching an alert storm render each new state once per process instead of once per page load.

In process memory rather than the shared Redis cache: a new version is a new key, so there is nothing
to invalidate across processes; a page never waits on Redis; a process that starts cold renders once
per version. Entries expire after FRAGMENT_SECONDS (a bound on anything a version does not cover, such
as a renamed user) and at most MAX_ENTRIES are kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils import timezone

FRAGMENT_SECONDS = 60
MAX_ENTRIES = 200

_cache = LocMemCache("opsportal-fragments", {"TIMEOUT": FRAGMENT_SECONDS, "OPTIONS": {"MAX_ENTRIES": MAX_ENTRIES}})


def cached(parts: tuple[object, ...], render: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``render()``'s result for ``parts`` (which must name everything the result depends on: what,
    whose, which version, which view), rendered now or reused. Times are rendered in the current
    time zone, so that is part of the key too."""
    raw = repr((*parts, timezone.get_current_timezone_name()))
    key = "fragment:" + hashlib.sha256(raw.encode()).hexdigest()
    found: dict[str, Any] | None = _cache.get(key)
    if found is None:
        found = render()
        _cache.set(key, found)
    return found


# Stands for the CSRF token in a shared fragment; each answer gets its own request's token.
_CSRF_SLOT = "opsportal-csrf-slot-5e0c2b"


def shared_html(parts: tuple[object, ...], request: HttpRequest, draw: Callable[[dict[str, Any]], str]) -> str:
    """HTML that is the same for everyone seeing ``parts`` except the CSRF token in its forms: drawn
    once by ``draw(extra)`` (which adds ``extra`` to its template context, standing in for the token)
    and handed to each request with that request's token."""
    html: str = cached(parts, lambda: {"html": draw({"csrf_token": _CSRF_SLOT})})["html"]
    return html.replace(_CSRF_SLOT, get_token(request)) if _CSRF_SLOT in html else html


def clear() -> None:
    """Forget every fragment (tests that change what a version does not cover)."""
    _cache.clear()
