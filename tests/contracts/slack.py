"""A Slack Web API contract server for tests: a real HTTP server on 127.0.0.1 that checks each
request the way Slack does and keeps the state a test asserts on.

    def test_something(slack_server):            # the fixture sets SLACK_* settings to point here
        ...send through the outbox...
        root = slack_server.roots("C0INCIDENTS")[0]
        assert slack_server.replies("C0INCIDENTS", root["ts"])

What it checks (Slack's documented behaviour; slack_sdk's own Block Kit validators):
- ``Authorization: Bearer xoxb-...`` equal to the server's token (else ``not_authed`` /
  ``invalid_auth``); ``POST /api/<method>``; JSON bodies (chat.*, views.*) and form bodies (the rest).
- Required arguments per method; channel names (lowercase letters, digits, ``-``, ``_``, at most 80);
  text at most 40,000 characters; ``blocks`` (top level and inside attachments) at most 50 (100 in
  a modal), each parsed and validated by ``slack_sdk.models.blocks`` at block *and* element level
  (block-level validation does not recurse); a message with blocks but no ``text`` fallback is
  refused here (``no_text_fallback``) so the app always sends one.
- Answers shaped like Slack's (``ok``, ``channel``, ``ts``, ``message``...), errors as HTTP 200
  ``ok: false``.

A member id added with ``add_user`` is a channel too, as in Slack: posting to it opens the
bot's direct message with them (``dm(user_id)`` is its ``D...`` id).

Switches: ``fail_next(status=429, retry_after=1)``, ``fail_next(status=500)``,
``fail_next(error="channel_not_found")`` (optionally only for one ``method``, ``times`` in a row),
``enforce_rate = True`` (about one chat.postMessage per second per channel with a burst of
``rate_burst``, else 429), ``stop()`` / ``start()`` (Slack down and back, same port).
Ephemeral replies posted to ``response_url(...)`` are kept in ``responses``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

TOKEN = "xoxb-test-contract-token"
SIGNING_SECRET = "contract-signing-secret"
DEFAULT_CHANNEL_ID = "C0INCIDENTS"
TEAM_ID = "T0OPSPORTAL"
NAME_RE = re.compile(r"^[a-z0-9_-]+$")


class SlackRefusal(Exception):
    def __init__(self, error: str, status: int = 200, headers: dict[str, str] | None = None):
        super().__init__(error)
        self.error, self.status, self.headers = error, status, headers or {}


@dataclass
class Failure:
    status: int = 200
    error: str = ""
    retry_after: float | None = None
    method: str | None = None
    times: int = 1


@dataclass
class SlackState:
    """Everything the server was told, for tests to assert on."""

    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)


class SlackContractServer:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.state = SlackState()
        self.failures: list[Failure] = []
        self.enforce_rate = False
        self.rate_per_second = 1.0
        self.rate_burst = 4
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.add_channel("incidents", channel_id=DEFAULT_CHANNEL_ID)

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SlackContractServer:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="slack-contract", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.url}/response/{name}"

    # --- setup and switches -----------------------------------------------------------------------
    def add_channel(self, name: str, *, channel_id: str | None = None) -> str:
        channel_id = channel_id or f"C{next(self._ids):08d}"
        self.state.channels[channel_id] = {"id": channel_id, "name": name, "topic": "", "members": [],
                                           "is_channel": True, "is_private": False, "created": int(time.time())}
        return channel_id

    def add_user(self, user_id: str, email: str, *, team_id: str = TEAM_ID, name: str = "") -> None:
        self.state.users[user_id] = {"id": user_id, "team_id": team_id, "name": name or user_id.lower(),
                                     "profile": {"email": email, "real_name": name or user_id}}

    def dm(self, user_id: str) -> str:
        """The id (``D...``) of the bot's direct message with member ``user_id``, opened on first
        use, as Slack does when a message is posted with a member id as its channel."""
        found = next((c["id"] for c in self.state.channels.values() if c.get("user") == user_id), None)
        if found is None:
            found = f"D{next(self._ids):08d}"
            self.state.channels[found] = {"id": found, "user": user_id, "is_im": True, "is_channel": False,
                                          "members": [user_id], "created": int(time.time())}
        return found

    def fail_next(self, *, status: int = 200, error: str = "", retry_after: float | None = None,
                  method: str | None = None, times: int = 1) -> None:
        if status == 200 and not error:
            raise ValueError("give an HTTP status or an ok:false error")
        self.failures.append(Failure(status, error, retry_after, method, times))

    # --- reading the state ------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.state.calls if name == method]

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.state.channels.values() if c.get("name") == name), None)

    def roots(self, channel: str) -> list[dict[str, Any]]:
        return [m for (c, _), m in sorted(self.state.messages.items(), key=lambda kv: float(kv[0][1]))
                if c == channel and not m.get("thread_ts")]

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [m for (c, _), m in sorted(self.state.messages.items(), key=lambda kv: float(kv[0][1]))
                if c == channel and m.get("thread_ts") == thread_ts]

    # --- the API --------------------------------------------------------------------------------
    def handle(self, method: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        try:
            args = self._parse(method, headers, raw)
            with self._lock:
                self._failure(method)
                self.state.calls.append((method, args))
                handler = getattr(self, "api_" + method.replace(".", "_"), None)
                if handler is None:
                    raise SlackRefusal("unknown_method")
                result: dict[str, Any] = handler(args)
            return 200, {}, {"ok": True, **result}
        except SlackRefusal as exc:
            self.state.refused.append((method, exc.error))
            if exc.status != 200:
                return exc.status, exc.headers, {"ok": False, "error": exc.error}
            return 200, exc.headers, {"ok": False, "error": exc.error}

    def _parse(self, method: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            raise SlackRefusal("not_authed")
        token = auth.removeprefix("Bearer ")
        if not re.match(r"^xox[bp]-", token) or token != self.token:
            raise SlackRefusal("invalid_auth")
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                args = json.loads(raw or b"{}")
            except ValueError:
                raise SlackRefusal("invalid_json") from None
            if not isinstance(args, dict):
                raise SlackRefusal("invalid_json")
            return args
        if content_type.startswith("application/x-www-form-urlencoded") or not raw:
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
            args = {k: v[-1] for k, v in form.items()}
            for key in ("blocks", "attachments", "view"):
                if isinstance(args.get(key), str):
                    try:
                        args[key] = json.loads(args[key])
                    except ValueError:
                        raise SlackRefusal(f"invalid_{key}") from None
            return args
        raise SlackRefusal("invalid_form_data")

    def _failure(self, method: str) -> None:
        for failure in self.failures:
            if failure.method not in (None, method):
                continue
            failure.times -= 1
            if failure.times <= 0:
                self.failures.remove(failure)
            headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
            if failure.status != 200:
                raise SlackRefusal(failure.error or ("ratelimited" if failure.status == 429 else "internal_error"),
                                   failure.status, headers)
            raise SlackRefusal(failure.error, 200, headers)

    def _channel(self, args: dict[str, Any]) -> dict[str, Any]:
        ref = str(args.get("channel") or "")
        if not ref:
            raise SlackRefusal("channel_not_found")
        if ref in self.state.users:  # a member id: the bot's direct message with that member
            return self.state.channels[self.dm(ref)]
        found = self.state.channels.get(ref) or self.channel_by_name(ref.lstrip("#"))
        if found is None:
            raise SlackRefusal("channel_not_found")
        return found

    def _check_message(self, args: dict[str, Any]) -> None:
        text, blocks, attachments = args.get("text"), args.get("blocks"), args.get("attachments")
        if not (text or blocks or attachments):
            raise SlackRefusal("no_text")
        if text is not None and not isinstance(text, str):
            raise SlackRefusal("invalid_arguments")
        if isinstance(text, str) and len(text) > 40_000:
            raise SlackRefusal("msg_too_long")
        if (blocks or attachments) and not text:
            raise SlackRefusal("no_text_fallback")
        if blocks is not None:
            validate_blocks(blocks, limit=50)
        if attachments is not None:
            if not isinstance(attachments, list) or len(attachments) > 100:
                raise SlackRefusal("too_many_attachments")
            for attachment in attachments:
                if not isinstance(attachment, dict):
                    raise SlackRefusal("invalid_attachments")
                colour = attachment.get("color")
                if colour is not None and not re.match(r"^(#[0-9a-fA-F]{6}|good|warning|danger)$", str(colour)):
                    raise SlackRefusal("invalid_attachments")
                if "blocks" in attachment:
                    validate_blocks(attachment["blocks"], limit=50)

    def _rate(self, channel_id: str) -> None:
        if not self.enforce_rate:
            return
        now, interval = time.monotonic(), 1 / self.rate_per_second
        tat = max(self._tat.get(channel_id, now), now)
        if tat - now > interval * (self.rate_burst - 1):
            raise SlackRefusal("ratelimited", 429, {"Retry-After": "1"})
        self._tat[channel_id] = tat + interval

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://opsportal-test.slack.com/", "team": "Opsportal Test", "team_id": TEAM_ID,
                "user": "opsportal", "user_id": "UBOT", "bot_id": "BBOT"}

    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        self._check_message(args)
        thread_ts = args.get("thread_ts")
        if thread_ts and (channel["id"], str(thread_ts)) not in self.state.messages:
            raise SlackRefusal("thread_not_found")
        self._rate(channel["id"])
        ts = self._new_ts()
        message = {"type": "message", "ts": ts, "user": "UBOT", "bot_id": "BBOT", "text": args.get("text", ""),
                   "blocks": args.get("blocks") or [], "attachments": args.get("attachments") or [],
                   "thread_ts": str(thread_ts) if thread_ts else None, "updates": []}
        self.state.messages[(channel["id"], ts)] = message
        return {"channel": channel["id"], "ts": ts, "message": {k: v for k, v in message.items() if k != "updates"}}

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("ts") or "")
        if not ts:
            raise SlackRefusal("invalid_arguments")
        message = self.state.messages.get((channel["id"], ts))
        if message is None:
            raise SlackRefusal("message_not_found")
        self._check_message(args)
        message["updates"].append({k: message[k] for k in ("text", "blocks", "attachments")})
        message.update(text=args.get("text", ""), blocks=args.get("blocks") or [],
                       attachments=args.get("attachments") or [])
        return {"channel": channel["id"], "ts": ts, "text": message["text"]}

    def api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("message_ts") or "")
        if (channel["id"], ts) not in self.state.messages:
            raise SlackRefusal("message_not_found")
        return {"channel": channel["id"],
                "permalink": f"https://opsportal-test.slack.com/archives/{channel['id']}/p{ts.replace('.', '')}"}

    def api_conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        if not name:
            raise SlackRefusal("invalid_name_required")
        if len(name) > 80:
            raise SlackRefusal("invalid_name_maxlength")
        if not NAME_RE.match(name):
            raise SlackRefusal("invalid_name_specials")
        if self.channel_by_name(name) is not None:
            raise SlackRefusal("name_taken")
        channel_id = self.add_channel(name)
        self.state.channels[channel_id]["is_private"] = str(args.get("is_private", "0")) in ("1", "true")
        return {"channel": self.state.channels[channel_id]}

    def api_conversations_setTopic(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        topic = str(args.get("topic", ""))
        if len(topic) > 250:
            raise SlackRefusal("too_long")
        channel["topic"] = topic
        return {"channel": channel}

    def api_conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users or len(users) > 1000:
            raise SlackRefusal("no_user" if not users else "too_many_users")
        unknown = [u for u in users if u not in self.state.users]
        if unknown:
            raise SlackRefusal("user_not_found")
        channel["members"] = sorted(set(channel["members"]) | set(users))
        return {"channel": channel}

    def api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.state.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackRefusal("user_not_found")
        return {"user": user}

    def api_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        user = next((u for u in self.state.users.values() if u["profile"]["email"].lower() == email), None)
        if user is None:
            raise SlackRefusal("users_not_found")
        return {"user": user}

    def api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            raise SlackRefusal("invalid_trigger_id")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise SlackRefusal("invalid_arguments")
        title = view.get("title") or {}
        if title.get("type") != "plain_text" or not 0 < len(title.get("text", "")) <= 24:
            raise SlackRefusal("invalid_arguments")
        validate_blocks(view.get("blocks") or [], limit=100)
        self.state.views.append(view)
        return {"view": {"id": f"V{len(self.state.views):08d}", **view}}

    def record_response(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"ok": False, "error": "invalid_payload"}
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return 400, {"ok": False, "error": "no_text"}
        with self._lock:
            self.state.responses.append({"path": path, **body})
        return 200, {"ok": True}


def validate_blocks(blocks: Any, *, limit: int) -> None:
    """Slack's checks of a ``blocks`` array, with slack_sdk's validators at every level."""
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise SlackRefusal("invalid_blocks")
    for raw in blocks:
        if not isinstance(raw, dict):
            raise SlackRefusal("invalid_blocks")
        try:
            block = Block.parse(raw)
            if block is None:
                raise SlackRefusal("invalid_blocks")
            block.validate_json()
            for element in _elements(block):
                element.validate_json()
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            raise SlackRefusal("invalid_blocks") from exc


def _elements(block: Any) -> Iterator[Any]:
    """Block-level validation does not recurse: the elements are checked one by one."""
    for name in ("elements", "fields"):
        for element in getattr(block, name, None) or []:
            yield element
    for name in ("text", "accessory", "element", "label", "hint"):
        value = getattr(block, name, None)
        if value is not None and hasattr(value, "validate_json"):
            yield value
    for element in getattr(block, "elements", None) or []:
        confirm = getattr(element, "confirm", None)
        if confirm is not None:
            yield confirm
        yield from getattr(element, "options", None) or []


def _handler(server: SlackContractServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # one answer, no 40 ms wait for a delayed ACK between its writes
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
            return

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.startswith("/response/"):
                status, body = server.record_response(self.path, raw)
                self._send(status, {}, body)
                return
            if not self.path.startswith("/api/"):
                self._send(404, {}, {"ok": False, "error": "unknown_method"})
                return
            method = self.path.removeprefix("/api/").split("?")[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, body = server.handle(method, headers, raw)
            self._send(status, extra, body)

        def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def slack_server(settings: Any) -> Iterator[SlackContractServer]:
    """A running Slack contract server, with the SLACK_* settings pointed at it (token, signing
    secret, API URL, default channel ``C0INCIDENTS``, response URLs)."""
    server = SlackContractServer().start()
    settings.SLACK_BOT_TOKEN = server.token
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_API_URL = server.api_url
    settings.SLACK_DEFAULT_CHANNEL = DEFAULT_CHANNEL_ID
    settings.SLACK_WORKSPACE_URL = ""
    settings.SLACK_RESPONSE_URL_PREFIX = server.url + "/response/"
    try:
        yield server
    finally:
        server.stop()
