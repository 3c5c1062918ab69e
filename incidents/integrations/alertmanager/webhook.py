"""``POST /hooks/alertmanager``: Alertmanager's webhook receiver (docs/alertmanager.md section 2).

Authenticate (the bearer token selects the integration), validate, commit, then answer. Every
refusal is a 4xx naming the problem, which Alertmanager logs; a 5xx only means "try again" and is
answered when the database is unavailable, because Alertmanager retries those.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from opsportal.lib.exceptions import ApplicationError

from . import metrics
from .decoding import decode_payload
from .ingest import alertmanager_ingest
from .payload import PayloadTooLarge
from .tokens import integration_for_token

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


@csrf_exempt
@require_POST
def alertmanager_webhook(request: HttpRequest) -> JsonResponse:
    name = metrics.UNKNOWN_INTEGRATION
    try:
        token = _bearer(request)
        if token is None:
            return _refuse(name, metrics.UNAUTHORIZED, 401, "unauthorized",
                           "Send the integration's token as 'Authorization: Bearer <token>'.")
        integration = integration_for_token(token)
        if integration is None:
            return _refuse(name, metrics.UNAUTHORIZED, 401, "unauthorized", "The bearer token is not valid.")
        name = integration.name
        if not integration.enabled:
            return _refuse(name, metrics.FORBIDDEN, 403, "disabled", f'Integration "{name}" is disabled.')
        if request.content_type != "application/json":
            return _refuse(name, metrics.UNSUPPORTED_MEDIA, 415, "unsupported_media_type",
                           f"Content-Type must be application/json, not {request.content_type or 'missing'}.")
        limit = settings.ALERTMANAGER_MAX_BODY_BYTES
        declared = _content_length(request)
        if declared is not None and declared > limit:
            return _refuse(name, metrics.TOO_LARGE, 413, "too_large",
                           f"The body is {declared} bytes; the limit is {limit} (ALERTMANAGER_MAX_BODY_BYTES). "
                           "Lower max_alerts in the webhook config.")
        body = request.read(limit + 1)
        if len(body) > limit:
            return _refuse(name, metrics.TOO_LARGE, 413, "too_large",
                           f"The body is over the {limit}-byte limit (ALERTMANAGER_MAX_BODY_BYTES).")
        if not body.strip():
            return _refuse(name, metrics.INVALID, 400, "invalid_payload", "The body is empty; send the JSON payload.")
        try:
            payload = decode_payload(body, max_alerts=settings.ALERTMANAGER_MAX_ALERTS)
        except PayloadTooLarge as exc:
            return _refuse(name, metrics.TOO_LARGE, 413, exc.code, exc.message)
        except ApplicationError as exc:
            return _refuse(name, metrics.INVALID, exc.status_code, exc.code, exc.message, **exc.extra)
        try:
            result = alertmanager_ingest(integration=integration, payload=payload, body=body.decode("utf-8"))
        except ApplicationError as exc:  # a business rule said no; nothing was stored
            return _refuse(name, metrics.INVALID, exc.status_code, exc.code, exc.message, **exc.extra)
    except (OperationalError, InterfaceError) as exc:
        log.warning("alertmanager webhook: database unavailable", extra={"integration": name, "error": str(exc)})
        metrics.WEBHOOKS.labels(name, metrics.UNAVAILABLE).inc()
        response = JsonResponse(
            {"status": "error", "error": {"code": "unavailable",
                                          "message": "The database is unavailable; retry later."}},
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    metrics.WEBHOOKS.labels(name, metrics.ACCEPTED).inc()
    return JsonResponse(result.as_response(), status=200)


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _refuse(name: str, outcome: str, status: int, code: str, message: str, **extra: object) -> JsonResponse:
    metrics.WEBHOOKS.labels(name, outcome).inc()
    log.info("alertmanager webhook refused", extra={"integration": name, "status": status, "reason": message})
    response = JsonResponse({"status": "error", "error": {"code": code, "message": message, **extra}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="opsportal"'
    return response
