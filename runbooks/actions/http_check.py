"""``http_check``: is an endpoint healthy? Method (GET or HEAD), URL, the expected status (else
any 2xx/3xx) and/or a text the body must contain; records the status and latency."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError

from . import _http
from .base import ParamField, Result, RunContext, only_known, param_names, render, text

NAME = "http_check"
LABEL = "HTTP check"
AUTOMATED = True
FIELDS = (
    ParamField("method", "Method", kind="select", choices=("GET", "HEAD")),
    ParamField("url", "URL", required=True, help="http(s) URL; labels as {{ labels.service }}"),
    ParamField("expect_status", "Expected status", kind="number", help="empty: any 2xx or 3xx"),
    ParamField("expect_body", "Body contains", help="text the answer must contain"),
    ParamField("timeout", "Request timeout (s)", kind="number", help="empty: the step's timeout"),
    ParamField("headers", "Headers", kind="mapping", help="Name=value, one a line; credentials go in secret headers"),
    ParamField("secret_headers", "Secret headers", kind="mapping", help="Header=SECRET_NAME, one a line"),
    ParamField("follow_redirects", "Follow redirects", kind="checkbox", help="each hop is checked like the URL"),
)
ALLOWED = param_names(FIELDS)


def validate(params: Any) -> dict[str, Any]:
    raw = only_known(params, ALLOWED)
    clean = _http.validate_common(raw, methods=("GET", "HEAD"), default_method="GET")
    expect_body = text(raw, "expect_body", max_length=1_000)
    if expect_body:
        clean["expect_body"] = expect_body
    return clean


def run(params: dict[str, Any], context: RunContext, *, timeout: float) -> Result:
    try:
        url = render(params["url"], context).strip()
    except TemplateError as exc:
        return Result(ok=False, output=f"The URL does not render: {exc}")
    answer = _http.call(params, context, timeout=timeout)
    output = _http.describe(params["method"], url, answer)
    data = {"status": answer.status, "latency_ms": round(answer.latency_ms, 1)}
    if answer.status is None:
        return Result(ok=False, output=output, data=data)
    expected = params.get("expect_status")
    problems = []
    if expected is not None and answer.status != expected:
        problems.append(f"expected status {expected}, got {answer.status}")
    if expected is None and answer.status >= 400:
        problems.append(f"status {answer.status} is not healthy")
    needle = params.get("expect_body")
    if needle and needle not in answer.body:
        problems.append(f"the body does not contain “{needle}”")
    if answer.error:
        problems.append("the answer was cut off")
    if problems:
        output = "Check failed: " + "; ".join(problems) + ".\n" + output
    return Result(ok=not problems, output=output, data=data)
