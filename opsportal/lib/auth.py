"""The answer a locked-out login gets (django-axes; docs/security.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def login_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """django-axes' lockout answer: the sign-in page saying why and for how long, as a 429 with
    Retry-After, instead of a bare text 403."""
    cooloff = settings.AXES_COOLOFF_TIME
    seconds = int(cooloff.total_seconds())
    minutes = max(1, round(seconds / 60))
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {"username": username, "cooloff_minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
