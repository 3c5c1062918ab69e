"""Container health checks: `check_health --live` (web), `check_health worker`, `check_health scheduler`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsportal import health


class Command(BaseCommand):
    help = "Exit non-zero when a part of Opsportal is unhealthy; prints the checks as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("parts", nargs="*", choices=["database", "broker", "worker", "scheduler", []],
                            help="Checks that must be healthy (default: all).")
        parser.add_argument("--live", action="store_true", help="Only the database and the broker.")

    def handle(self, *args: Any, parts: list[str], live: bool, **options: Any) -> None:
        _, checks = health.run_checks()
        wanted = parts or (["database", "broker"] if live else list(checks))
        self.stdout.write(json.dumps({name: checks[name] for name in wanted}))
        failed = [name for name in wanted if checks[name]["status"] != "healthy"]
        if failed:
            raise CommandError(f"unhealthy: {', '.join(failed)}")
