"""``approval``: a gate; the run waits for a person with the right to approve (docs/runbooks.md,
"Who may act"), who and when recorded. Two clicks at once: one wins, the other is told who did."""

from __future__ import annotations

from typing import Any

from .base import ParamField, only_known, param_names, text

NAME = "approval"
LABEL = "Approval"
AUTOMATED = False
FIELDS = (ParamField("instructions", "What to check before approving", kind="textarea"),)


def validate(params: Any) -> dict[str, Any]:
    raw = only_known(params, param_names(FIELDS))
    instructions = text(raw, "instructions")
    return {"instructions": instructions} if instructions else {}
