"""Demo data for `make run`: loaded once, and the admin login printed every time."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from incidents import lifecycle
from incidents.integrations.alertmanager.ingest import alertmanager_ingest
from incidents.integrations.alertmanager.maintenance import maintenance_window_create
from incidents.integrations.alertmanager.payload import fingerprint_for, parse_payload
from incidents.integrations.alertmanager.tokens import integration_create
from incidents.models import Incident, Service, Severity, Source

LOGIN_FILE = "demo-login.txt"


class Command(BaseCommand):
    help = "Create demo data (services, incidents, an admin user) once, then print the login."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        User = get_user_model()
        login_file = settings.DATA_DIR / LOGIN_FILE
        if not User.objects.filter(username="admin").exists():
            password = secrets.token_urlsafe(12)
            with transaction.atomic():
                admin = User.objects.create_superuser("admin", "admin@example.com", password)
                token = self._seed(admin)
            login_file.write_text(f"admin {password} {token}\n")
            login_file.chmod(0o600)
            self.stdout.write("Demo data loaded: 2 services, 5 incidents, an Alertmanager integration, "
                              "a maintenance window, user 'admin'.")
        if login_file.exists():
            user, password, token = (login_file.read_text().split() + [""])[:3]
            self.stdout.write(self.style.SUCCESS(
                f"\n  Opsportal: {settings.PUBLIC_URL}\n  Login:     {user} / {password}\n"
                + (f"  Alertmanager webhook: {settings.PUBLIC_URL}/hooks/alertmanager  "
                   f"(Authorization: Bearer {token})\n" if token else "")
                + f"  (stored in {login_file}; change the password in the admin)\n"
            ))
        else:
            self.stdout.write("User 'admin' exists and was not created by seed_demo: use your own login.")

    def _seed(self, admin) -> str:  # type: ignore[no-untyped-def]
        """Demo rows; returns the demo Alertmanager integration's token ("" if there was data already)."""
        if Incident.objects.exists():
            return ""
        now = timezone.now()
        checkout = Service.objects.create(name="checkout", owner_team="payments",
                                          description="Cart, payment and order placement.")
        search = Service.objects.create(name="search-api", owner_team="discovery",
                                        description="Product search and suggestions.")
        sev = {s.name: s for s in Severity.objects.all()}

        integration, token = integration_create(name="prometheus-demo", default_service=checkout)
        self._fire_demo_alerts(integration, now - timedelta(minutes=6))
        maintenance_window_create(
            name="search-api index rebuild", actor=admin, matchers='service="search-api"',
            starts_at=(now + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0),
            ends_at=(now + timedelta(days=1)).replace(hour=4, minute=0, second=0, microsecond=0),
            comment="Nightly reindex; search alerts are expected.",
        )
        slow = lifecycle.incident_open(
            title="Search p99 latency above 2s", severity=sev["P2"], service=search, source=Source.WEB, actor=admin,
            description="p99 latency 2.4s since the 14:00 deploy.", opened_at=now - timedelta(minutes=35),
        )
        lifecycle.incident_acknowledge(incident=slow, actor=admin, source=Source.WEB)
        lifecycle.incident_assign_commander(incident=slow, commander=admin, actor=admin, source=Source.WEB)
        lifecycle.incident_add_note(incident=slow, text="Rolling back the 14:00 search deploy.", actor=admin,
                                    source=Source.WEB)
        lifecycle.incident_open(
            title="Disk usage above 80% on db-2", severity=sev["P3"], source=Source.ALERTMANAGER,
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
        return token

    def _fire_demo_alerts(self, integration, starts_at) -> None:  # type: ignore[no-untyped-def]
        """The same path a real Alertmanager post takes, so the demo P1 has an alerts table."""
        started = starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        common = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
        annotations = {"summary": "5xx rate above 5% on checkout",
                       "description": "checkout 5xx ratio is 7.2% for 10m",
                       "runbook_url": "https://runbooks.example/checkout"}
        body = {
            "version": "4", "status": "firing", "receiver": "opsportal", "externalURL": "http://127.0.0.1:9093",
            "groupKey": '{}:{alertname="HighErrorRate", service="checkout"}', "truncatedAlerts": 0,
            "groupLabels": {"alertname": "HighErrorRate", "service": "checkout"},
            "commonLabels": common, "commonAnnotations": annotations,
            "alerts": [
                {"status": "firing", "labels": {**common, "instance": f"web-{n}:8080"}, "annotations": annotations,
                 "startsAt": started, "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "http://prometheus.example:9090/graph?g0.expr=rate%28http_errors%5B5m%5D%29",
                 "fingerprint": fingerprint_for({**common, "instance": f"web-{n}:8080"})}
                for n in (1, 2)
            ],
        }
        alertmanager_ingest(integration=integration, payload=parse_payload(body), body=body,
                            received_at=starts_at)
