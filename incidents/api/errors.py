"""The one place the API turns errors into JSON: ``{"error": {"code", "message", ...}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from opsportal.lib.exceptions import ApplicationError

# How long a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> Response:
    """503 with Retry-After: the database is down or unreachable, so a retry will likely work,
    which a 500 would not say (and clients and proxies treat 500 as final)."""
    response = Response(
        {"error": {"code": "unavailable", "message": "The database is unavailable; retry later."}}, status=503
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has the shape ``{"error": {"code", "message", "fields"?}}``."""
    if isinstance(exc, ApplicationError):
        return Response(
            {"error": {"code": exc.code, "message": exc.message, **exc.extra}}, status=exc.status_code
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable_response()
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        message = "; ".join(
            f"{name}: {' '.join(str(m) for m in (msgs if isinstance(msgs, list) else [msgs]))}"
            for name, msgs in fields.items()
        )
        response.data = {"error": {"code": "invalid", "message": message, "fields": fields}}
    else:
        detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
        code = getattr(detail, "code", None) or exc.default_code if isinstance(exc, drf_exceptions.APIException) else "error"
        response.data = {"error": {"code": str(code), "message": str(detail)}}
    return response
