"""Domain errors: what a service raises when a rule says no. Every entry point maps them to its
answer (the API in ``incidents.api.errors``, pages inline, Slack as an ephemeral message)."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule said no. ``status_code`` is what an HTTP entry point answers with."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request is valid but the current state forbids it (e.g. acknowledging a closed incident)."""

    status_code = 409
    code = "conflict"


class NotFoundError(ApplicationError):
    """The thing the request names does not exist (or is not visible to the caller)."""

    status_code = 404
    code = "not_found"
