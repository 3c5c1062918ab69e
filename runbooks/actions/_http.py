"""The HTTP call both HTTP actions make: through ``opsportal.lib.http`` (the outbound-URL guard on
the address, after DNS, and on every redirect hop), the body read up to RUNBOOK_HTTP_MAX_BODY_BYTES
and within the step's timeout however slowly the other side sends it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from jinja2 import TemplateError

from opsportal.lib import http, outbound

from .base import ParamError, RunContext, number, redact, render, secret, secret_refs, template, text

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CHUNK = 64 * 1024


def validate_url(params: dict[str, Any]) -> str:
    url = text(params, "url", required=True, max_length=2_000).strip()
    template(url, "url")
    if "{" in url:
        # Labels fill it in at run time; what is fixed must already be an http(s) URL.
        if not url.lower().startswith(("http://", "https://")):
            raise ParamError("url", "url must start with http:// or https://.")
        return url
    try:
        outbound.check_url(url)
    except outbound.OutboundRefused as exc:
        raise ParamError("url", f"url: {exc.message}") from None
    return url


def validate_common(params: dict[str, Any], *, methods: tuple[str, ...], default_method: str) -> dict[str, Any]:
    method = text(params, "method", default=default_method).upper() or default_method
    if method not in methods:
        raise ParamError("method", f"method must be one of {', '.join(methods)}, not “{method}”.")
    clean: dict[str, Any] = {"method": method, "url": validate_url(params)}
    timeout = number(params, "timeout", minimum=0.1, maximum=3_600)
    if timeout is not None:
        clean["timeout"] = timeout
    headers = params.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ParamError("headers", "headers must map header names to text.")
    for key, value in headers.items():
        template(value, f"headers.{key}")
        if key.lower() in ("authorization", "proxy-authorization", "cookie", "x-api-key"):
            raise ParamError(f"headers.{key}", f"{key} carries a credential: name a secret in secret_headers instead.")
    if headers:
        clean["headers"] = headers
    refs = secret_refs(params, "secret_headers")
    if refs:
        clean["secret_headers"] = refs
    expect = params.get("expect_status")
    if expect is not None:
        clean["expect_status"] = int(number(params, "expect_status", minimum=100, maximum=599, integer=True) or 0)
    if params.get("follow_redirects") is not None:
        if not isinstance(params["follow_redirects"], bool):
            raise ParamError("follow_redirects", "follow_redirects must be true or false.")
        clean["follow_redirects"] = params["follow_redirects"]
    return clean


@dataclass
class Answer:
    status: int | None
    body: str
    body_bytes: int
    truncated: bool
    latency_ms: float
    error: str = ""


def call(params: dict[str, Any], context: RunContext, *, timeout: float, body: str | None = None) -> Answer:
    """Make the request; never raises for the other side's failures (``error`` says what happened)."""
    url = render(params["url"], context).strip()
    headers = {k: render(v, context) for k, v in (params.get("headers") or {}).items()}
    refs: dict[str, str] = params.get("secret_headers") or {}
    headers.update({k: secret(name) for k, name in refs.items()})
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    limit = settings.RUNBOOK_HTTP_MAX_BODY_BYTES
    started = time.monotonic()
    deadline = started + timeout
    try:
        response = http.request(
            params["method"], url, headers=headers, data=body.encode() if body is not None else None,
            timeout=(min(timeout, 10.0), timeout), follow_redirects=params.get("follow_redirects", False),
            stream=True,
        )
    except http.HttpError as exc:
        latency = (time.monotonic() - started) * 1000
        return Answer(exc.status_code, "", 0, False, latency, error=redact(exc.message, refs))
    chunks: list[bytes] = []
    kept = total = 0
    error = ""
    try:
        while True:
            if time.monotonic() > deadline:
                error = f"{url} kept sending for more than {timeout:g} s; cut at the step's timeout."
                break
            chunk = response.raw.read(CHUNK, decode_content=True)
            if not chunk:
                break
            total += len(chunk)
            if kept < limit:
                piece = chunk[: limit - kept]
                chunks.append(piece)
                kept += len(piece)
    except Exception as exc:  # noqa: BLE001 - a read timeout or reset mid-body is the target's failure
        error = f"{url} stopped answering mid-body ({type(exc).__name__}); cut at the step's timeout."
    finally:
        response.close()
    latency = (time.monotonic() - started) * 1000
    text_body = b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")
    return Answer(response.status_code, redact(text_body, refs), total, total > kept, latency, error=error)


def describe(method: str, url: str, answer: Answer) -> str:
    if answer.status is None:
        return answer.error
    line = f"{method} {url} → {http.status_text(answer.status)} in {answer.latency_ms:.0f} ms"
    if answer.error:
        line += f"\n{answer.error}"
    if answer.body:
        line += "\n\n" + answer.body
        if answer.truncated:
            line += f"\n… [response body cut at {len(answer.body.encode())} of {answer.body_bytes}+ bytes]"
    return line


def rendered_url(params: dict[str, Any], context: RunContext) -> str:
    try:
        return render(params["url"], context).strip()
    except TemplateError:
        return str(params["url"])
