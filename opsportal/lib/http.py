"""The one way Opsportal talks HTTP to other systems.

Every outbound call goes through :func:`request`, so every call has a timeout, a User-Agent, passes
the outbound-URL guard (:mod:`opsportal.lib.outbound`: scheme, resolved and pinned address,
every redirect hop), and fails the same way: :class:`HttpError` with a message an operator can act
on ("could not connect to ...: connection refused", "... answered 500 Internal Server Error",
"... refused by the outbound policy: ..."). A message never quotes the response body: the URL may
point at a service the user could not otherwise read (docs/security.md, "Outbound requests"); the
body excerpt is kept on the exception for the server log. Tests that must not touch the network
mock this module and nothing else.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import requests

from . import outbound

DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds
USER_AGENT = "Opsportal/0.1"
BODY_EXCERPT = 500  # characters of an error body kept on the exception (for logs, never the message)
MAX_REDIRECTS = 5  # hops followed when the caller asks for redirects; each one passes the guard again


class HttpError(Exception):
    """An outbound request did not succeed.

    ``status_code`` is None when no answer arrived (connection refused, DNS, timeout, refused by
    the outbound policy: then ``refused_rule`` names the rule). ``body`` is the start of the answer
    when there was one: for the server log only, never for a page or an API answer.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status_code: int | None = None,
        body: str = "",
        refused_rule: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.url = url
        self.status_code = status_code
        self.body = body
        self.refused_rule = refused_rule


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
    follow_redirects: bool = False,
    stream: bool = False,
    data: str | bytes | None = None,
) -> requests.Response:
    """Send one request; return the response when it answered 2xx or 3xx, else raise HttpError.

    Redirects are returned as they are unless ``follow_redirects``; then up to MAX_REDIRECTS hops
    are followed, each checked by the outbound guard as the first request was. With ``stream`` the
    body is not read here: the caller reads as much as it wants from ``response.raw`` and closes it
    (an error answer's body is then not read at all). ``data`` is a raw body (``json_body`` encodes).
    """
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    adapter = outbound.GuardedAdapter()
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxies nor .netrc from the environment: see GuardedAdapter
            session.max_redirects = MAX_REDIRECTS
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            response = session.request(
                method,
                url,
                json=json_body,
                data=data,
                params=params,
                headers=all_headers,
                timeout=timeout,
                allow_redirects=follow_redirects,
                stream=stream,
            )
    except outbound.OutboundRefused as exc:
        # A refused redirect hop is named by its address, not its URL: a Location can carry secrets.
        redirected = bool(exc.url) and exc.url.rstrip("/") != url.rstrip("/")
        what = "redirected to an address that the outbound policy refuses" if redirected else (
            "is refused by the outbound policy"
        )
        raise HttpError(
            f"{url} {what}: {exc.message}",
            url=url,
            refused_rule=exc.rule,
        ) from None
    except requests.exceptions.TooManyRedirects:
        raise HttpError(f"{url} redirected more than {MAX_REDIRECTS} times.", url=url) from None
    except requests.exceptions.Timeout:
        raise HttpError(f"{url} did not answer within {_seconds(timeout)} s.", url=url) from None
    except requests.exceptions.ConnectionError as exc:
        raise HttpError(f"Could not connect to {url}: {_reason(exc)}.", url=url) from None
    except requests.exceptions.RequestException as exc:  # invalid URL, too many redirects, ...
        raise HttpError(f"Request to {url} failed: {exc}.", url=url) from None
    if response.status_code >= 400:
        if stream:
            response.close()
        raise HttpError(
            f"{url} answered {status_text(response.status_code)}.",
            url=url,
            status_code=response.status_code,
            body="" if stream else _excerpt(response),
        )
    return response


def status_text(code: int) -> str:
    """``500 Internal Server Error``: the code and its standard phrase, never the server's words."""
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


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
