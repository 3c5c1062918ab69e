"""Helpers for the Slack tests: flushing the outbox, signing requests like Slack does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from celery import current_app

from incidents.notifications import outbox
from incidents.notifications.models import Conversation, Delivery
from tests.contracts.slack import SIGNING_SECRET


def flush_all(*, now: Any = None) -> int:
    """Flush every Slack conversation once, as the workers would; returns messages sent."""
    sent = 0
    for pk in Conversation.objects.filter(channel="slack").order_by("pk").values_list("pk", flat=True):
        sent += outbox.conversation_flush(pk, now=now)
    return sent


def statuses() -> list[tuple[str, str, str]]:
    return list(Delivery.objects.filter(channel="slack").order_by("created_at", "id")
                .values_list("kind", "target", "status"))


def signed(body: str, *, secret: str = SIGNING_SECRET, at: int | None = None) -> dict[str, str]:
    """Slack's request signature headers for ``body`` (v0, HMAC-SHA256 of "v0:ts:body")."""
    ts = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": ts, "HTTP_X_SLACK_SIGNATURE": f"v0={digest}"}


def post_signed(client: Any, path: str, form: dict[str, str], **sign: Any) -> Any:
    body = urlencode(form)
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded", **signed(body, **sign))


def action_form(action_id: str, incident_id: int, *, user: str = "U0ALICE", response_url: str = "") -> dict[str, str]:
    payload = {
        "type": "block_actions", "user": {"id": user, "username": "alice", "team_id": "T0OPSPORTAL"},
        "team": {"id": "T0OPSPORTAL", "domain": "opsportal-test"}, "api_app_id": "A1", "trigger_id": "1.2.abc",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": "C0INCIDENTS"},
        "channel": {"id": "C0INCIDENTS", "name": "incidents"}, "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": f"incident:{incident_id}",
                     "value": str(incident_id), "action_ts": "1.1"}],
    }
    return {"payload": json.dumps(payload)}


@pytest.fixture
def eager_tasks(django_capture_on_commit_callbacks: Any) -> Iterator[Any]:
    """Run the hooks' follow-up tasks in the test's process when the request commits (the
    end-to-end tests use a worker). Yields ``post(client, path, form)``."""
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True

    def post(client: Any, path: str, form: dict[str, str]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return post_signed(client, path, form)

    try:
        yield post
    finally:
        current_app.conf.task_always_eager = previous
