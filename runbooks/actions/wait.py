"""``wait``: let time pass (a restart settles) before the next step. A due time in the database that
the scheduler's sweep completes, not a worker sleeping: a restart of every process loses nothing."""

from __future__ import annotations

from typing import Any

from .base import ParamError, ParamField, number, only_known, param_names

NAME = "wait"
LABEL = "Wait"
AUTOMATED = False
FIELDS = (ParamField("seconds", "Seconds", kind="number", required=True),)


def validate(params: Any) -> dict[str, Any]:
    raw = only_known(params, param_names(FIELDS))
    if raw.get("seconds") is None:
        raise ParamError("seconds", "seconds is required (how long to wait).")
    return {"seconds": number(raw, "seconds", minimum=1, maximum=86_400)}
