"""``POST /hooks/pagerduty``: PagerDuty's v3 webhooks (docs/pagerduty.md, "From PagerDuty back to Opsportal").

Verify the signature over the raw body first, then parse, apply and answer 202. PagerDuty waits
5 seconds for an answer and drops a webhook answered with a 4xx, so every refusal names its
reason, and a 503 (retried by PagerDuty) is answered only when the database is unavailable.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from opsportal.lib.exceptions import ApplicationError

from . import signatures
from .inbound import parse_webhook, webhook_apply

log = logging.getLogger(__name__)
# PagerDuty never sends a webhook over 256 KB.
BODY_MAX = 256 * 1024
RETRY_AFTER_SECONDS = 5


@csrf_exempt
@require_POST
def pagerduty_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.PAGERDUTY_WEBHOOK_SECRET
    if not secret:
        return _refuse(403, "not_configured", "PagerDuty webhooks are off: set PAGERDUTY_WEBHOOK_SECRET to the "
                       "subscription's signing secret.")
    body = request.read(BODY_MAX + 1)
    if len(body) > BODY_MAX:
        return _refuse(413, "too_large", f"The body is over 256 KB ({BODY_MAX} bytes), more than PagerDuty sends.")
    header = request.headers.get("X-PagerDuty-Signature", "")
    if not header:
        return _refuse(401, "unauthorized", "The X-PagerDuty-Signature header is missing.")
    if not signatures.verify(body, header, secret):
        return _refuse(401, "unauthorized", "No signature in X-PagerDuty-Signature matches the body "
                       "(check PAGERDUTY_WEBHOOK_SECRET).")
    if request.content_type != "application/json":
        return _refuse(415, "unsupported_media_type",
                       f"Content-Type must be application/json, not {request.content_type or 'missing'}.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return _refuse(400, "invalid_json", f"The body is not JSON: {exc}")
    try:
        event = parse_webhook(data)
        result = webhook_apply(event=event)
    except ApplicationError as exc:
        return _refuse(exc.status_code, exc.code, exc.message, **exc.extra)
    except (OperationalError, InterfaceError) as exc:
        log.warning("pagerduty webhook: database unavailable", extra={"error": str(exc)})
        response = _refuse(503, "unavailable", "The database is unavailable; retry later.")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse(result.as_response(), status=202)


def _refuse(status: int, code: str, message: str, **extra: object) -> JsonResponse:
    log.info("pagerduty webhook refused", extra={"status": status, "reason": message})
    return JsonResponse({"status": "error", "error": {"code": code, "message": message, **extra}}, status=status)
