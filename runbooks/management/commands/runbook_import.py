"""``manage.py runbook_import FILE...``: create or replace runbooks from YAML (``-`` reads stdin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsportal.lib.exceptions import ApplicationError
from runbooks.yaml_io import EXAMPLES_DIR, runbooks_import


class Command(BaseCommand):
    help = "Create or replace runbooks (matched by name) from YAML files; --examples imports the shipped ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", help="YAML files (- for stdin)")
        parser.add_argument("--examples", action="store_true", help=f"import every file in {EXAMPLES_DIR}")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [str(p) for p in sorted(EXAMPLES_DIR.glob("*.yaml"))] if options["examples"] else []
        paths += options["files"]
        if not paths:
            raise CommandError("Name YAML files to import (or --examples).")
        for name in paths:
            try:
                text = sys.stdin.read() if name == "-" else Path(name).read_text()
            except OSError as exc:
                raise CommandError(f"{name}: {exc.strerror}") from None
            try:
                done = runbooks_import(text, actor=None, source=name)
            except ApplicationError as exc:
                raise CommandError(exc.message) from None
            for runbook, created in done:
                verb = "created" if created else f"updated to v{runbook.version}"
                self.stdout.write(f"{runbook.name}: {verb} ({runbook.steps.count()} steps)")
