"""A request whose database statement ran past ``statement_timeout`` answers 503, not 500.

PostgreSQL cancels the statement (SQLSTATE 57014, ``query_canceled``) after DB_STATEMENT_TIMEOUT_MS_WEB
(opsportal/settings/base.py); psycopg raises QueryCanceled, which Django wraps in its OperationalError. That is the
server protecting itself from one slow page, not a bug: the user is told to retry or narrow the
request, a script gets JSON with Retry-After, and the log says which path was too slow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from opsportal.errors import MACHINE_PREFIXES

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
QUERY_CANCELED = "57014"
MESSAGE = ("The database took too long to answer this request and stopped it. Try again in a moment; "
           "a narrower search or an older page may be quicker.")


def is_statement_timeout(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == QUERY_CANCELED


class StatementTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_statement_timeout(exception):
            return None
        log.warning("statement timeout", extra={"path": request.path, "method": request.method})
        response: HttpResponse
        if request.path.startswith(MACHINE_PREFIXES):
            response = JsonResponse({"error": {"code": "statement_timeout", "message": MESSAGE}}, status=503)
        else:
            response = HttpResponse(
                f"<!doctype html><title>Too slow</title><h1>503: too slow</h1><p>{MESSAGE}</p>",
                status=503, content_type="text/html; charset=utf-8",
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
