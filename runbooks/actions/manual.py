"""``manual``: a checklist item a person does and ticks ("restart the database container"); the run
waits until someone marks it done (the approve action), who and when recorded."""

from __future__ import annotations

from typing import Any

from .base import ParamField, only_known, param_names, text

NAME = "manual"
LABEL = "Manual step"
AUTOMATED = False
FIELDS = (ParamField("instructions", "Instructions", kind="textarea"),)


def validate(params: Any) -> dict[str, Any]:
    raw = only_known(params, param_names(FIELDS))
    instructions = text(raw, "instructions")
    return {"instructions": instructions} if instructions else {}
