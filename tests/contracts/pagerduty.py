"""A PagerDuty Events API v2 contract server: a real HTTPS server on 127.0.0.1 with a certificate
from a throwaway CA (trustme), checking every request the way PagerDuty documents it and keeping
the alerts' state, so tests assert what PagerDuty would hold, not what the client sent.

Checked on ``POST /v2/enqueue``: Content-Type application/json, a body of at most 512 KB that is a
JSON object with known keys only; ``routing_key`` (32 characters), ``event_action`` (trigger,
acknowledge, resolve), ``dedup_key`` (at most 255 characters; required for acknowledge and
resolve); for a trigger a ``payload`` with ``summary`` (1-1024 characters), ``source``, ``severity``
(critical, error, warning, info), an ISO 8601 ``timestamp`` and an object ``custom_details`` when
present; ``links[].href``; ``images[].src`` over https. A valid event is answered 202 with its
dedup key; an invalid one 400 with ``status``, ``message`` and ``errors``, as PagerDuty does.

State per (routing_key, dedup_key), as PagerDuty keeps it: a trigger opens an alert (a new one if
the last was resolved) or is deduplicated into the open one; acknowledge and resolve change an
open alert and are accepted but change nothing otherwise.

Switches: ``fail_next(status, retry_after=None, times=1)`` answers the next requests with 429 or
5xx; ``down = True`` drops every connection without an answer (PagerDuty unreachable);
``delay`` stalls each answer (timeouts).
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme

BODY_MAX = 512 * 1024
SUMMARY_MAX = 1024
DEDUP_KEY_MAX = 255
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
TOP_LEVEL = {"routing_key", "event_action", "dedup_key", "payload", "links", "images", "client", "client_url"}
PAYLOAD_KEYS = {"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"}
ROUTING_KEY_RE = re.compile(r"^[0-9A-Za-z]{32}$")


@dataclass
class Alert:
    status: str  # triggered, acknowledged, resolved
    number: int  # how many alerts this dedup key has opened so far (a trigger after a resolve opens another)
    severity: str
    summary: str
    log: list[str] = field(default_factory=list)  # every action applied, in order


def validate(headers: Any, body: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """The event and the list of problems with it (empty when PagerDuty would take it)."""
    if headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
        return None, [f"Content-Type must be application/json, not {headers.get('Content-Type')!r}"]
    if len(body) > BODY_MAX:
        return None, [f"Request body is {len(body)} bytes; the limit is {BODY_MAX}"]
    try:
        event = json.loads(body)
    except ValueError:
        return None, ["Body is not valid JSON"]
    if not isinstance(event, dict):
        return None, ["Event must be a JSON object"]
    errors = [f"Unknown field '{k}'" for k in sorted(set(event) - TOP_LEVEL)]
    key = event.get("routing_key")
    if not isinstance(key, str) or not ROUTING_KEY_RE.match(key):
        errors.append("'routing_key' is missing or not a 32-character integration key")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append(f"'event_action' must be one of {', '.join(ACTIONS)}")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or not 0 < len(dedup_key) <= DEDUP_KEY_MAX):
        errors.append(f"'dedup_key' must be a string of 1-{DEDUP_KEY_MAX} characters")
    if action in ("acknowledge", "resolve") and dedup_key is None:
        errors.append(f"'dedup_key' is required for {action}")
    if action == "trigger":
        errors += _payload_errors(event.get("payload"))
    elif "payload" in event:
        errors.append(f"'payload' is only for trigger events, not {action}")
    for name in ("client", "client_url"):
        if name in event and not isinstance(event[name], str):
            errors.append(f"'{name}' must be a string")
    errors += _list_errors(event, "links", "href", https=False)
    errors += _list_errors(event, "images", "src", https=True)
    return event, errors


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is required for trigger and must be an object"]
    errors = [f"Unknown field 'payload.{k}'" for k in sorted(set(payload) - PAYLOAD_KEYS)]
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is required")
    elif len(summary) > SUMMARY_MAX:
        errors.append(f"'payload.summary' is {len(summary)} characters; the limit is {SUMMARY_MAX}")
    if not isinstance(payload.get("source"), str) or not payload["source"].strip():
        errors.append("'payload.source' is required")
    if payload.get("severity") not in SEVERITIES:
        errors.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
    if "timestamp" in payload:
        try:
            datetime.fromisoformat(str(payload["timestamp"]).replace("Z", "+00:00"))
        except ValueError:
            errors.append("'payload.timestamp' is not an ISO 8601 date-time")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        errors.append("'payload.custom_details' must be an object")
    for name in ("component", "group", "class"):
        if name in payload and not isinstance(payload[name], str):
            errors.append(f"'payload.{name}' must be a string")
    return errors


def _list_errors(event: dict[str, Any], name: str, required: str, *, https: bool) -> list[str]:
    if name not in event:
        return []
    items = event[name]
    if not isinstance(items, list):
        return [f"'{name}' must be a list"]
    errors = []
    for n, item in enumerate(items):
        value = item.get(required) if isinstance(item, dict) else None
        if not isinstance(value, str) or not value:
            errors.append(f"'{name}[{n}].{required}' is required")
        elif https and not value.startswith("https://"):
            errors.append(f"'{name}[{n}].{required}' must be an https URL")
    return errors


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that refuses our certificate or hangs up is part of the tests, not an error."""


class PagerDutyContract:
    def __init__(self, folder: Path):
        self.ca = trustme.CA()
        self.ca_file = folder / "pagerduty-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.alerts: dict[tuple[str, str], Alert] = {}
        self.accepted: list[dict[str, Any]] = []  # every event answered 202, in order
        self.refused: list[tuple[dict[str, Any] | None, list[str]]] = []  # every 400, with its errors
        self.requests = 0
        self.connections = 0  # TCP connections accepted (a client that keeps its connection opens one)
        self.down = False
        self.delay = 0.0
        self._failures: list[tuple[int, str | None]] = []
        self._lock = threading.Lock()
        self._server = self._start()
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"

    # --- switches ------------------------------------------------------------------------------
    def fail_next(self, status: int, *, retry_after: str | None = None, times: int = 1) -> None:
        with self._lock:
            self._failures += [(status, retry_after)] * times

    def alert(self, routing_key: str, dedup_key: str) -> Alert | None:
        with self._lock:
            return self.alerts.get((routing_key, dedup_key))

    def actions(self, dedup_key: str) -> list[str]:
        with self._lock:
            return [e["event_action"] for e in self.accepted if e.get("dedup_key") == dedup_key]

    # --- the server ----------------------------------------------------------------------------
    def _start(self) -> ThreadingHTTPServer:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        contract = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: without TCP_NODELAY the second waits for the
            # client's delayed ACK (40 ms) on a kept-alive connection, which PagerDuty never does.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def setup(self) -> None:
                with contract._lock:
                    contract.connections += 1
                super().setup()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                contract._handle(self, body)

            def do_GET(self) -> None:
                self._answer(405, {"status": "error", "message": "Method Not Allowed"})

            def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        server = _QuietServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    def _handle(self, handler: Any, body: bytes) -> None:
        with self._lock:
            self.requests += 1
            down, delay = self.down, self.delay
            failure = self._failures.pop(0) if self._failures and not down else None
        if down:  # PagerDuty unreachable: the connection ends without an answer
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if delay:
            time.sleep(delay)
        if handler.path != "/v2/enqueue":
            handler._answer(404, {"status": "error", "message": f"No route {handler.path}"})
            return
        if failure is not None:
            status, retry_after = failure
            headers = {"Retry-After": retry_after} if retry_after else {}
            message = "Rate limit exceeded" if status == 429 else "Internal Server Error"
            handler._answer(status, {"status": "error", "message": message}, headers)
            return
        event, errors = validate(handler.headers, body)
        if errors:
            with self._lock:
                self.refused.append((event, errors))
            handler._answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                  "errors": errors})
            return
        assert event is not None
        dedup_key = event.get("dedup_key") or uuid.uuid4().hex
        with self._lock:
            self._apply(event, dedup_key)
            self.accepted.append(event)
        handler._answer(202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key})

    def _apply(self, event: dict[str, Any], dedup_key: str) -> None:
        key = (event["routing_key"], dedup_key)
        alert, action = self.alerts.get(key), event["event_action"]
        if action == "trigger":
            payload = event["payload"]
            if alert is None or alert.status == "resolved":
                number = alert.number + 1 if alert else 1
                alert = self.alerts[key] = Alert("triggered", number, payload["severity"], payload["summary"])
            else:  # deduplicated into the open alert, acknowledged or not
                alert.severity, alert.summary = payload["severity"], payload["summary"]
            alert.log.append("trigger")
        elif alert is not None and alert.status != "resolved":
            if action == "resolve":
                alert.status = "resolved"
            elif alert.status == "triggered":
                alert.status = "acknowledged"
            alert.log.append(action)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
