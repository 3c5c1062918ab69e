"""Demo data: the example runbooks (from the operations manuals teams already follow)."""

from __future__ import annotations

from incidents.registry import DemoContext, DemoResult

from .models import Runbook
from .yaml_io import EXAMPLES_DIR, runbooks_import


def seed_runbooks(context: DemoContext) -> DemoResult:
    if not Runbook.objects.exists():
        for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
            runbooks_import(path.read_text(), actor=context.admin, source=path.name)
    return DemoResult(summary=f"{Runbook.objects.count()} runbooks")
