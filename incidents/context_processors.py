"""Template context every page gets."""

from __future__ import annotations

from django.http import HttpRequest

from .registry import NavEntry, registry


def navigation(request: HttpRequest) -> dict[str, list[NavEntry]]:
    """The top bar's links that integrations registered (the core's own are in base.html)."""
    return {"nav_entries": registry.nav_entries}
