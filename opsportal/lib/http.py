"""The one way Opsportal talks HTTP to other systems.

Every outbound call goes through :func:`request`, so every call has a timeout, a User-Agent, and
fails the same way: :class:`HttpError` with a message an operator can act on ("could not connect
to ...", "... answered 400: <what the server said>"). Tests that must not touch the network mock
this module and nothing else.
"""

from __future__ import annotations

import json
from typing import Any

import requests

DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds
USER_AGENT = "Opsportal/0.1"
BODY_EXCERPT = 500  # characters of an error body kept in the message


class HttpError(Exception):
    """An outbound request did not succeed.

    ``status_code`` is None when no answer arrived (connection refused, DNS, timeout); ``body`` is
    the start of the answer when there was one.
    """

    def __init__(self, message: str, *, url: str, status_code: int | None = None, body: str = ""):
        super().__init__(message)
        self.message = message
        self.url = url
        self.status_code = status_code
        self.body = body


def _excerpt(response: requests.Response) -> str:
    """What the server said, shortest useful form: a JSON error's message, else the text."""
    text = response.text or ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error", "detail"):
            if isinstance(data.get(key), str) and data[key]:
                text = data[key]
                break
    elif isinstance(data, str):
        text = data
    text = " ".join(text.split())
    return text[:BODY_EXCERPT] + ("…" if len(text) > BODY_EXCERPT else "")


def request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> requests.Response:
    """Send one request; return the response when it answered 2xx or 3xx, else raise HttpError."""
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        response = requests.request(
            method,
            url,
            json=json_body,
            params=params,
            headers=all_headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.exceptions.Timeout:
        raise HttpError(f"{url} did not answer within {_seconds(timeout)} s.", url=url) from None
    except requests.exceptions.ConnectionError as exc:
        raise HttpError(f"Could not connect to {url}: {_reason(exc)}.", url=url) from None
    except requests.exceptions.RequestException as exc:  # invalid URL, too many redirects, ...
        raise HttpError(f"Request to {url} failed: {exc}.", url=url) from None
    if response.status_code >= 400:
        said = _excerpt(response)
        raise HttpError(
            f"{url} answered {response.status_code}" + (f": {said}" if said else "."),
            url=url,
            status_code=response.status_code,
            body=said,
        )
    return response


def _seconds(timeout: float | tuple[float, float]) -> str:
    value = max(timeout) if isinstance(timeout, tuple) else timeout
    return f"{value:g}"


_CONNECT_REASONS = (
    "Connection refused",
    "Name or service not known",
    "Temporary failure in name resolution",
    "No route to host",
    "Network is unreachable",
    "Connection reset by peer",
)


def _reason(exc: requests.exceptions.ConnectionError) -> str:
    """A short cause, e.g. "connection refused", instead of urllib3's nested object reprs."""
    text = str(exc)
    for reason in _CONNECT_REASONS:
        if reason in text:
            return reason.lower()
    return "connection failed"
