"""``python manage.py create_integration alertmanager NAME``: create an integration and print its
token (shown this once) and the receiver URL to put in Alertmanager's config."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.models import Service
from opsportal.lib.exceptions import ApplicationError

from ...integration import integration_create
from ...models import Integration
from ...receiver import webhook_url


class Command(BaseCommand):
    help = "Create an Alertmanager integration and print its bearer token and receiver URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[k.value for k in Integration.Kind], help="Integration kind.")
        parser.add_argument("name", help="A unique name, e.g. prod-alertmanager.")
        parser.add_argument("--service", help="Name of the default service for its incidents.")
        parser.add_argument("--group-by-labels", help="Group by these labels (comma-separated) instead of groupKey.")
        parser.add_argument("--no-auto-resolve", action="store_true", help="Keep incidents open when alerts resolve.")
        parser.add_argument("--inactivity-minutes", type=int, help="Resolve after this many minutes without alerts.")
        parser.add_argument("--alertmanager-url", default="", help="Alertmanager base URL, for silences.")

    def handle(self, *args: Any, **options: Any) -> None:
        fields: dict[str, Any] = {"kind": options["kind"], "alertmanager_url": options["alertmanager_url"]}
        if options["service"]:
            try:
                fields["default_service"] = Service.objects.get(name=options["service"])
            except Service.DoesNotExist:
                raise CommandError(f'No service named "{options["service"]}".') from None
        if options["group_by_labels"]:
            fields["grouping"] = Integration.Grouping.LABELS
            fields["group_by_labels"] = [x.strip() for x in options["group_by_labels"].split(",") if x.strip()]
        if options["no_auto_resolve"]:
            fields["auto_resolve"] = False
        if options["inactivity_minutes"] is not None:
            if options["inactivity_minutes"] <= 0:
                raise CommandError("--inactivity-minutes must be a positive number.")
            fields["inactivity_timeout"] = timedelta(minutes=options["inactivity_minutes"])
        try:
            integration, token = integration_create(name=options["name"], **fields)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        url = webhook_url()
        self.stdout.write(f"Created integration {integration.name} (#{integration.pk}).")
        self.stdout.write(f"Token (shown only this once): {token}")
        self.stdout.write(f"Receiver URL: {url}")
        self.stdout.write(
            "Alertmanager receiver:\n"
            "  webhook_configs:\n"
            f"    - url: '{url}'\n"
            "      send_resolved: true\n"
            "      http_config:\n"
            "        authorization:\n"
            "          type: Bearer\n"
            f"          credentials: '{token}'"
        )
