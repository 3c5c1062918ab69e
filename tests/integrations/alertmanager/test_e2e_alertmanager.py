"""End to end with the real Alertmanager: it delivers real notifications to the app under test.

Alertmanager (Debian's prometheus-alertmanager, docs/alertmanager.md section 4) runs on a free loopback port
with a webhook receiver pointing at pytest-django's live server and the integration's bearer token.
We push alerts into Alertmanager's API v2 as Prometheus would and watch the database: the group
opens one incident, a silence created from the app shows up in Alertmanager and expires there,
and pushing the alerts again with endsAt in the past auto-resolves the incident.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from incidents.integrations.alertmanager.client import AlertmanagerClient
from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Alert, AlertStatus, Silence
from incidents.integrations.alertmanager.silences import silence_create, silence_expire
from incidents.models import EventKind, Incident, Severity, Source, Status
from tests.conftest import Login

from .am_process import free_port, run_alertmanager, unique_suffix, wait_for

pytestmark = [
    pytest.mark.alertmanager,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("allow_loopback", "responder_may_silence"),
]

WAIT = 30.0  # seconds; a fire -> resolve round trip takes about 4 s with these intervals


def alertmanager_config(webhook_url: str, token: str) -> str:
    return f"""\
route:
  receiver: opsportal
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: opsportal
    webhook_configs:
      - url: '{webhook_url}'
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: '{token}'
"""


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_it_opens_silences_and_auto_resolves_an_incident_from_real_alertmanager_notifications(
    live_server,
    tmp_path: Path,
    responder: User,
    login: Login,
) -> None:
    port = free_port()
    integration, token = integration_create(
        name=f"e2e-{unique_suffix()}", alertmanager_url=f"http://127.0.0.1:{port}", auto_resolve=True
    )
    alertname = f"HighErrorRate{unique_suffix()}"
    started = datetime.now(UTC) - timedelta(minutes=1)
    alerts = [
        {
            "labels": {
                "alertname": alertname,
                "service": "checkout",
                "severity": "critical",
                "instance": instance,
            },
            "annotations": {"summary": "5xx rate above 5%", "description": f"{instance} 5xx ratio is 7.2%"},
            "startsAt": iso(started),
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=rate%28http_errors%5B5m%5D%29",
        }
        for instance in ("web-1:8080", "web-2:8080")
    ]

    config = alertmanager_config(live_server.url + "/hooks/alertmanager", token)
    with run_alertmanager(tmp_path / "am", config, port=port) as am:
        api = AlertmanagerClient(am.url)

        # 1. Firing alerts -> one incident holding both alerts.
        api.post_alerts(alerts)

        def incident_with_both_alerts() -> Incident | None:
            incident = Incident.objects.filter(alerts__integration=integration).distinct().first()
            return incident if incident and incident.alerts.count() == 2 else None

        incident = wait_for(
            incident_with_both_alerts,
            timeout=WAIT,
            what=f"an incident with 2 alerts (Alertmanager log:\n{am.log_text()[-2000:]})",
        )
        assert Incident.objects.filter(alerts__integration=integration).distinct().count() == 1
        assert incident.status == Status.TRIGGERED
        assert incident.source == Source.ALERTMANAGER
        assert incident.severity == Severity.objects.get(name="P1")
        assert set(Alert.objects.filter(incident=incident).values_list("status", flat=True)) == {
            AlertStatus.FIRING
        }

        # The incident page shows the alerts Alertmanager delivered.
        page = login(responder).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
        assert '<span class="chip-v">web-2:8080</span>' in page and "5xx rate above 5%" in page

        # 2. A silence created from the app appears in Alertmanager, then expires there.
        silence = silence_create(
            incident=incident, duration=timedelta(hours=1), comment="deploying the fix", actor=responder
        )
        remote = {s["id"]: s for s in api.get_silences()}
        assert remote[silence.silence_id]["status"]["state"] == "active"
        assert {(m["name"], m["value"]) for m in remote[silence.silence_id]["matchers"]} == {
            ("alertname", alertname),
            ("service", "checkout"),
            ("severity", "critical"),
        }
        silence_expire(silence=silence, actor=responder)
        remote = {s["id"]: s for s in api.get_silences()}
        assert remote[silence.silence_id]["status"]["state"] == "expired"
        assert Silence.objects.get(pk=silence.pk).state == Silence.State.EXPIRED

        # 3. The same alerts with endsAt in the past -> resolved notification -> auto-resolve.
        ended = iso(datetime.now(UTC) - timedelta(seconds=1))
        api.post_alerts([{**alert, "endsAt": ended} for alert in alerts])

        def resolved() -> Incident | None:
            fresh = Incident.objects.get(pk=incident.pk)
            return fresh if fresh.status == Status.RESOLVED else None

        incident = wait_for(
            resolved,
            timeout=WAIT,
            what=f"the incident to auto-resolve (Alertmanager log:\n{am.log_text()[-2000:]})",
        )
        assert set(Alert.objects.filter(incident=incident).values_list("status", flat=True)) == {
            AlertStatus.RESOLVED
        }
        kinds = list(incident.events.values_list("kind", flat=True))
        assert kinds.count(EventKind.OPENED) == 1 and kinds.count(EventKind.RESOLVED) == 1
        assert kinds.count(EventKind.SILENCE) == 2
        assert Incident.objects.filter(alerts__integration=integration).distinct().count() == 1
