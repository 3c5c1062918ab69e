"""The action registry: one module per action type (docs/runbooks.md, "Actions")."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import approval, command, http_check, http_request, manual, notify, tcp_check, wait
from .base import ParamError, ParamField, Result, RunContext, param_names

ACTIONS: dict[str, ModuleType] = {
    m.NAME: m for m in (http_check, http_request, tcp_check, command, wait, manual, approval, notify)
}

__all__ = ["ACTIONS", "ParamError", "ParamField", "Result", "RunContext", "get", "param_names", "validate_params"]


def get(name: str) -> ModuleType:
    return ACTIONS[name]


def validate_params(action: str, params: Any) -> dict[str, Any]:
    """The action's own validation; ParamError names the field."""
    if action not in ACTIONS:
        raise ParamError("action", f"Unknown action “{action}”; one of {', '.join(ACTIONS)}.")
    result: dict[str, Any] = ACTIONS[action].validate(params)
    return result
