"""``manage.py runbook_export [NAME...]``: runbooks as YAML on stdout (all when none are named)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runbooks.models import Runbook
from runbooks.yaml_io import runbooks_dump


class Command(BaseCommand):
    help = "Print runbooks as YAML (the form runbook_import reads)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="runbook names (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        runbooks = list(Runbook.objects.order_by("name"))
        if options["names"]:
            wanted = set(options["names"])
            missing = sorted(wanted - {r.name for r in runbooks})
            if missing:
                raise CommandError(f"No runbook named {', '.join(missing)}.")
            runbooks = [r for r in runbooks if r.name in wanted]
        self.stdout.write(runbooks_dump(runbooks), ending="")
