"""Runbooks as YAML, so teams keep them in git (docs/runbooks.md, "YAML"). A file holds one runbook
(a mapping with name and steps) or several (``runbooks: [...]``); both are read with
``yaml.safe_load`` and saved through ``editing.runbook_save``, so an imported runbook is validated
exactly as one typed in the editor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from opsportal.lib.actors import Actor
from opsportal.lib.exceptions import ApplicationError

from . import editing
from .models import Runbook

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
MAX_YAML_BYTES = 1024 * 1024


def runbooks_parse(text: str, *, source: str = "YAML") -> list[dict[str, Any]]:
    if len(text.encode()) > MAX_YAML_BYTES:
        raise ApplicationError(f"{source} is larger than {MAX_YAML_BYTES} bytes.", extra={"field": "yaml"})
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ApplicationError(f"{source} is not valid YAML: {exc}", extra={"field": "yaml"}) from None
    if isinstance(data, dict) and "runbooks" in data and set(data) == {"runbooks"}:
        data = data["runbooks"]
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in items):
        raise ApplicationError(f"{source}: expected a runbook (name, steps) or runbooks: [...].",
                               extra={"field": "yaml"})
    return items


@transaction.atomic
def runbooks_import(text: str, *, actor: Actor, source: str = "YAML") -> list[tuple[Runbook, bool]]:
    """Create each runbook, or replace the one with the same name (a new version). All or nothing:
    an invalid runbook (its name and field in the error) imports none. Returns (runbook, created)."""
    done = []
    for i, item in enumerate(runbooks_parse(text, source=source)):
        name = item.get("name")
        existing = Runbook.objects.filter(name=name).first() if isinstance(name, str) else None
        try:
            runbook = editing.runbook_save(data=item, actor=actor, runbook=existing)
        except ApplicationError as exc:
            raise ApplicationError(f"{source}, runbook {i + 1} ({name}): {exc.message}", code=exc.code,
                                   extra=exc.extra) from None
        done.append((runbook, existing is None))
    return done


def runbooks_dump(runbooks: list[Runbook]) -> str:
    data = [editing.runbook_as_data(r) for r in runbooks]
    return yaml.safe_dump({"runbooks": data} if len(data) != 1 else data[0], sort_keys=False, allow_unicode=True,
                          width=100)
