"""Demo data for `make run`: loaded once, and the admin login printed every time.

The core makes services and incidents in every state; each integration adds its own demo data
through ``incidents.registry`` (the core names none of them)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Incident, Service, Severity, Source
from incidents.registry import DemoContext, registry

LOGIN_FILE = "demo-login.json"


class Command(BaseCommand):
    help = "Create demo data (services, incidents, an admin user) once, then print the login."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        login_file = settings.DATA_DIR / LOGIN_FILE
        if not User.objects.filter(username="admin").exists():
            password = secrets.token_urlsafe(12)
            with transaction.atomic():
                admin = User.objects.create_superuser("admin", "admin@example.com", password)
                summary, banner = self._seed(admin)
            login_file.write_text(json.dumps({"user": "admin", "password": password, "banner": banner}))
            login_file.chmod(0o600)  # it holds a password and the demo webhook token
            self.stdout.write(f"Demo data loaded: {', '.join(summary)}, user 'admin'.")
        if login_file.exists():
            login = json.loads(login_file.read_text())
            lines = [f"Opsportal: {settings.PUBLIC_URL}", f"Login:     {login['user']} / {login['password']}",
                     *login["banner"], f"(stored in {login_file}; change the password in the admin)"]
            self.stdout.write(self.style.SUCCESS("\n" + "".join(f"  {line}\n" for line in lines)))
        else:
            self.stdout.write("User 'admin' exists and was not created by seed_demo: use your own login.")

    def _seed(self, admin: AbstractBaseUser) -> tuple[list[str], list[str]]:
        """Demo rows, unless there is data already; returns the summary phrases and banner lines."""
        if Incident.objects.exists():
            return ["nothing new (incidents exist)"], []
        now = timezone.now()
        services = {
            "checkout": Service.objects.create(name="checkout", owner_team="payments",
                                               description="Cart, payment and order placement."),
            "search-api": Service.objects.create(name="search-api", owner_team="discovery",
                                                 description="Product search and suggestions."),
        }
        self._incidents(admin, services, now)
        summary, banner = ["2 services", "4 incidents"], []
        context = DemoContext(admin=admin, services=services, now=now)
        for _, seeder in registry.demo_seeders:
            result = seeder(context)
            summary.append(result.summary)
            banner.extend(result.banner)
        return summary, banner

    def _incidents(self, admin: AbstractBaseUser, services: dict[str, Service], now: Any) -> None:
        """One incident in each state people meet: acknowledged with a commander and a note,
        triggered, resolved, closed."""
        sev = {s.name: s for s in Severity.objects.all()}
        search, checkout = services["search-api"], services["checkout"]
        slow = lifecycle.incident_open(
            title="Search p99 latency above 2s", severity=sev["P2"], service=search, source=Source.WEB, actor=admin,
            description="p99 latency 2.4s since the 14:00 deploy.", opened_at=now - timedelta(minutes=35),
        )
        lifecycle.incident_acknowledge(incident=slow, actor=admin, source=Source.WEB)
        lifecycle.incident_assign_commander(incident=slow, commander=admin, actor=admin, source=Source.WEB)
        lifecycle.incident_add_note(incident=slow, text="Rolling back the 14:00 search deploy.", actor=admin,
                                    source=Source.WEB)
        lifecycle.incident_open(
            title="Disk usage above 80% on db-2", severity=sev["P3"], source=Source.API,
            labels={"alertname": "DiskSpaceLow", "instance": "db-2", "severity": "warning"},
            opened_at=now - timedelta(hours=5),
        )
        done = lifecycle.incident_open(
            title="Typo on the order confirmation page", severity=sev["P4"], service=checkout, source=Source.WEB,
            actor=admin, opened_at=now - timedelta(days=1),
        )
        lifecycle.incident_resolve(incident=done, actor=admin, source=Source.WEB, note="Copy fixed and deployed.")
        old = lifecycle.incident_open(
            title="Database connection pool exhausted", severity=sev["P1"], service=checkout, source=Source.WEB,
            actor=admin, opened_at=now - timedelta(days=3),
        )
        lifecycle.incident_acknowledge(incident=old, actor=admin, source=Source.WEB)
        lifecycle.incident_resolve(incident=old, actor=admin, source=Source.WEB,
                                   note="Restarted the database, raised the pool size to 40.")
        lifecycle.incident_close(incident=old, actor=admin, source=Source.WEB)
