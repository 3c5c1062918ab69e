"""The one way this app talks to Slack's Web API: a ``WebClient`` aimed at ``SLACK_API_URL`` with a
short timeout, and one typed mapping from Slack's failures to the outbox's ``TransportError``
(docs/slack.md, "Errors"). Each channel's pace is pace.py's."""

from __future__ import annotations

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from incidents.notifications.channels import TransportError

# Slack's ``ok:false`` error codes that no retry will fix: the message, the channel or the token
# is wrong. Anything else (ratelimited, internal_error, fatal_error, service_unavailable,
# request_timeout, an unknown code) is retried with backoff until the outbox gives up.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "channel_is_archived", "invalid_blocks",
    "invalid_blocks_format", "invalid_attachments", "msg_too_long", "msg_blocks_too_long", "no_text",
    "too_many_attachments", "too_many_blocks", "invalid_arguments", "invalid_arg_name", "invalid_auth",
    "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission", "missing_scope",
    "not_allowed_token_type", "restricted_action", "ekm_access_denied", "cant_update_message",
    "message_not_found", "edit_window_closed", "invalid_name", "invalid_name_specials",
    "invalid_name_required", "invalid_name_punctuation", "invalid_name_maxlength", "too_long",
    "user_not_found", "users_not_found", "cant_invite_self", "cant_invite", "method_not_supported_for_channel_type",
})
RETRYABLE_ERRORS = frozenset({
    "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
})


def web_client() -> WebClient:
    """A client for one send or one request's follow-up. Retries are the outbox's job (with
    backoff, in order), so only slack-sdk's single retry of a dropped connection is kept."""
    return WebClient(token=settings.SLACK_BOT_TOKEN, base_url=settings.SLACK_API_URL,
                     timeout=int(max(1, settings.SLACK_TIMEOUT_SECONDS)))


def transport_error(exc: Exception, method: str) -> TransportError:
    """Slack's failure as the outbox understands it: permanent or not, and when to retry."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = response.status_code
        if status == 429:
            return TransportError(f"Slack {method}: rate limited (429)", retry_after=_retry_after(response.headers))
        error = str(response.get("error") or "") if isinstance(response.data, dict) else ""
        if status >= 500:
            return TransportError(f"Slack {method}: HTTP {status}")
        if error in RETRYABLE_ERRORS:
            retry = _retry_after(response.headers) if error in ("ratelimited", "rate_limited") else None
            return TransportError(f"Slack {method}: {error}", retry_after=retry)
        if error in PERMANENT_ERRORS:
            return TransportError(f"Slack {method}: {error}", permanent=True)
        if status >= 400:
            return TransportError(f"Slack {method}: HTTP {status} {error}".strip(), permanent=status != 408)
        return TransportError(f"Slack {method}: {error or 'unexpected answer'}")
    if isinstance(exc, SlackClientError | OSError):
        return TransportError(f"Slack {method}: {type(exc).__name__}: {exc}")
    return TransportError(f"Slack {method}: {type(exc).__name__}: {exc}")


def _retry_after(headers: dict[str, str | list[str]] | object) -> float | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None
