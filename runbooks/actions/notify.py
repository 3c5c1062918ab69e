"""``notify``: a templated message to the incident's channels. The message becomes the step's
timeline event, so the outbox posts it wherever the incident's messages go (its Slack thread)."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError

from .base import ParamField, Result, RunContext, only_known, param_names, render, template, text

NAME = "notify"
LABEL = "Notify"
AUTOMATED = True
FIELDS = (ParamField("message", "Message", kind="textarea", required=True,
                     help="e.g. Restarted {{ labels.service }}; watching error rates."),)


def validate(params: Any) -> dict[str, Any]:
    raw = only_known(params, param_names(FIELDS))
    return {"message": template(text(raw, "message", required=True, max_length=4_000), "message")}


def run(params: dict[str, Any], context: RunContext, *, timeout: float) -> Result:
    try:
        message = render(params["message"], context).strip()
    except TemplateError as exc:
        return Result(ok=False, output=f"The message does not render: {exc}")
    return Result(ok=True, output=message, announce=message)
