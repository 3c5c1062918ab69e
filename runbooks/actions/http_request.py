"""``http_request``: call an ops API (a restart endpoint, Rundeck/AWX, a Kubernetes job trigger)
with a JSON body rendered from a template over the incident's labels. Use ``| tojson`` to quote a
label safely: ``{"service": {{ labels.service | tojson }}}``."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import TemplateError

from . import _http
from .base import ParamError, ParamField, Result, RunContext, only_known, param_names, render, template, text

NAME = "http_request"
LABEL = "HTTP request"
AUTOMATED = True
FIELDS = (
    ParamField("method", "Method", kind="select", choices=("POST", "PUT", "PATCH", "DELETE", "GET")),
    ParamField("url", "URL", required=True, help="http(s) URL; labels as {{ labels.service }}"),
    ParamField("body", "JSON body", kind="textarea", help='e.g. {"service": {{ labels.service | tojson }}}'),
    ParamField("expect_status", "Expected status", kind="number", help="empty: any 2xx or 3xx"),
    ParamField("timeout", "Request timeout (s)", kind="number", help="empty: the step's timeout"),
    ParamField("headers", "Headers", kind="mapping", help="Name=value, one a line; credentials go in secret headers"),
    ParamField("secret_headers", "Secret headers", kind="mapping", help="Header=SECRET_NAME, one a line"),
    ParamField("follow_redirects", "Follow redirects", kind="checkbox", help="each hop is checked like the URL"),
)
ALLOWED = param_names(FIELDS)


def validate(params: Any) -> dict[str, Any]:
    raw = only_known(params, ALLOWED)
    clean = _http.validate_common(raw, methods=("POST", "PUT", "PATCH", "DELETE", "GET"), default_method="POST")
    body = text(raw, "body", max_length=100_000)
    if body.strip():
        template(body, "body")
        if "{{" not in body and "{%" not in body:  # no template: it must already be JSON
            try:
                json.loads(body)
            except ValueError as exc:
                raise ParamError("body", f"body is not JSON: {exc}") from None
        clean["body"] = body
    return clean


def run(params: dict[str, Any], context: RunContext, *, timeout: float) -> Result:
    try:
        url = render(params["url"], context).strip()
        body = render(params["body"], context) if params.get("body") else None
    except TemplateError as exc:
        return Result(ok=False, output=f"A parameter does not render: {exc}")
    if body is not None:
        try:
            json.loads(body)
        except ValueError as exc:
            return Result(ok=False, output=f"The rendered body is not JSON ({exc}); quote labels with | tojson.\n{body[:2000]}")
    answer = _http.call(params, context, timeout=timeout, body=body)
    output = _http.describe(params["method"], url, answer)
    data = {"status": answer.status, "latency_ms": round(answer.latency_ms, 1)}
    expected = params.get("expect_status")
    ok = answer.status is not None and not answer.error and (
        answer.status == expected if expected is not None else answer.status < 400)
    if answer.status is not None and not ok and expected is not None:
        output = f"Expected status {expected}, got {answer.status}.\n" + output
    return Result(ok=ok, output=output, data=data)
