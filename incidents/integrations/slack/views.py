"""``POST /hooks/slack/actions`` and ``POST /hooks/slack/commands`` (docs/slack.md, "Buttons and
/incident").

Slack signs each request; the signature is checked against the raw body, with Slack's 5-minute
window, before the form is read. A forged or stale request is a 401; a malformed one a 400 naming
the problem. The work is done by ``interactions`` within Slack's 3 seconds.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_sdk.signature import SignatureVerifier

from opsportal.lib.exceptions import ApplicationError

from . import interactions

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024  # Slack's interactivity payloads are a few KB
WINDOW_SECONDS = 300


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _verified_form(request: HttpRequest) -> QueryDict | JsonResponse:
    """The request's form once its signature checks out; else the refusal to answer with."""
    if not settings.SLACK_SIGNING_SECRET:
        return _error(503, "not_configured", "Slack is not configured here: set SLACK_SIGNING_SECRET.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _error(413, "too_large", f"The body is over {MAX_BODY_BYTES} bytes.")
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        return _error(401, "unsigned", "Missing X-Slack-Signature or X-Slack-Request-Timestamp.")
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return _error(401, "bad_timestamp", "X-Slack-Request-Timestamp is not a Unix time.")
    if age > WINDOW_SECONDS:
        return _error(401, "stale", "The request timestamp is more than 5 minutes from now (replayed or clock skew).")
    body = request.body
    if not SignatureVerifier(settings.SLACK_SIGNING_SECRET).is_valid(body, timestamp, signature):
        return _error(401, "bad_signature", "The signature does not match the body (check SLACK_SIGNING_SECRET).")
    if request.content_type != "application/x-www-form-urlencoded":
        return _error(415, "unsupported_media_type",
                      f"Content-Type must be application/x-www-form-urlencoded, not {request.content_type or 'missing'}.")
    try:
        return QueryDict(body.decode("utf-8"))
    except UnicodeDecodeError:
        return _error(400, "invalid", "The body is not UTF-8.")


def _answer(result: dict[str, Any] | None) -> HttpResponse:
    return JsonResponse(result) if result is not None else HttpResponse(status=200)


@csrf_exempt
@require_POST
def slack_actions(request: HttpRequest) -> HttpResponse:
    form = _verified_form(request)
    if isinstance(form, JsonResponse):
        return form
    raw = form.get("payload")
    if not raw:
        return _error(400, "invalid", "The form has no 'payload' field.")
    try:
        payload = json.loads(raw)
    except ValueError:
        return _error(400, "invalid", "The 'payload' field is not JSON.")
    if not isinstance(payload, dict):
        return _error(400, "invalid", "The 'payload' field is not a JSON object.")
    try:
        return _answer(interactions.interaction_handle(payload))
    except ApplicationError as exc:
        return _error(exc.status_code, exc.code, exc.message)


@csrf_exempt
@require_POST
def slack_commands(request: HttpRequest) -> HttpResponse:
    form = _verified_form(request)
    if isinstance(form, JsonResponse):
        return form
    try:
        return _answer(interactions.command_handle({k: form.get(k, "") for k in form}))
    except ApplicationError as exc:
        return _error(exc.status_code, exc.code, exc.message)
