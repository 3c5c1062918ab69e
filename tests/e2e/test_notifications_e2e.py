"""End to end, every part real: web, worker and scheduler as `bin/serve` processes on PostgreSQL and a
Redis of the test's own, with the Slack and PagerDuty contract servers on loopback.

An Alertmanager webhook opens an incident; the worker posts the Slack root message and triggers
PagerDuty; a signed Slack button acknowledges it as the Slack user's Opsportal account; the thread
gets a reply, the root is updated, PagerDuty gets the acknowledgement with the same dedup key. Then
the broker goes away while a note is added: nothing is lost, and the note is posted exactly once when
Redis is back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.db import connection

from incidents.api.tokens import api_token_issue
from incidents.integrations.alertmanager.integration import integration_create
from incidents.models import EventKind, Incident
from incidents.notifications.models import Delivery
from tests.contracts.pagerduty import PagerDutyContract
from tests.contracts.pagerduty_fixtures import ROUTING_KEY
from tests.contracts.slack import DEFAULT_CHANNEL_ID, SIGNING_SECRET, SlackContractServer
from tests.integrations.slack.conftest import action_form, signed
from tests.ops.processes import child_env, serve, stop, wait_for
from tests.ops.redis_server import RedisServer, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def pagerduty(data_dir: Path) -> Iterator[PagerDutyContract]:
    (data_dir / "pd").mkdir()
    server = PagerDutyContract(data_dir / "pd")
    yield server
    server.close()


@pytest.fixture
def slack() -> Iterator[SlackContractServer]:
    server = SlackContractServer().start()
    yield server
    server.stop()


def _env(data_dir: Path, redis: RedisServer, slack: SlackContractServer, pagerduty: PagerDutyContract,
         port: int) -> dict[str, str]:
    db = connection.settings_dict
    return child_env(
        data_dir,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=redis.url, PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}",
        SLA_TICK_SECONDS="1", NOTIFY_SWEEP_SECONDS="1", NOTIFY_BACKOFF_SECONDS="1", WORKER_CONCURRENCY="2",
        SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
        SLACK_DEFAULT_CHANNEL=DEFAULT_CHANNEL_ID, SLACK_WORKSPACE_URL="https://opsportal-test.slack.com/",
        SLACK_RESPONSE_URL_PREFIX=slack.url + "/response/",
        PAGERDUTY_EVENTS_URL=pagerduty.url, PAGERDUTY_CA_BUNDLE=str(pagerduty.ca_file),
        PAGERDUTY_ROUTING_KEY=ROUTING_KEY, OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8",
    )


def _alert_body() -> dict[str, Any]:
    labels = {"alertname": "HighErrorRate", "service": "checkout", "severity": "warning", "instance": "web-1"}
    return {
        "version": "4", "status": "firing", "receiver": "opsportal", "externalURL": "http://am.example:9093",
        "groupKey": '{}:{alertname="HighErrorRate"}', "truncatedAlerts": 0,
        "groupLabels": {"alertname": "HighErrorRate"}, "commonLabels": labels,
        "commonAnnotations": {"summary": "5xx above 5% on checkout"},
        "alerts": [{"status": "firing", "labels": labels, "annotations": {"summary": "5xx above 5% on checkout"},
                    "startsAt": "2026-11-29T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example/graph", "fingerprint": "a1b2c3d4e5f60718"}],
    }


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(m) for m in messages]


def test_an_alert_reaches_slack_and_pagerduty_and_a_slack_button_acknowledges_it(
    data_dir: Path, own_redis: RedisServer, slack: SlackContractServer, pagerduty: PagerDutyContract,
    responder: Any, severities: Any,
) -> None:
    redis = own_redis
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(data_dir, redis, slack, pagerduty, port)
    subprocess.run([sys.executable,
                    "manage.py", "collectstatic", "--noinput", "-v0"], env=env, cwd=settings.BASE_DIR, check=True)
    _, token = integration_create(name="prod-am")
    _, api_token = api_token_issue(user=responder)
    slack.add_user("U0ALICE", responder.email)
    procs = [serve(kind, data_dir, env) for kind in ("web", "worker", "scheduler")]
    try:
        wait_for(lambda: _up(base), "the web process to answer", data_dir)

        # 1. Alertmanager opens an incident; the worker tells Slack and PagerDuty.
        answer = requests.post(f"{base}/hooks/alertmanager", json=_alert_body(),
                               headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        incident = Incident.objects.get(pk=answer.json()["incident"])
        wait_for(lambda: len(slack.roots(DEFAULT_CHANNEL_ID)) == 1, "the Slack root message", data_dir)
        root = slack.roots(DEFAULT_CHANNEL_ID)[0]
        assert incident.title in json.dumps(root)
        wait_for(lambda: pagerduty.actions(incident.key) == ["trigger"], "the PagerDuty trigger", data_dir)

        # 2. A signed Slack button acknowledges it as the responder (looked up by email).
        form = action_form("incident_acknowledge", incident.pk, response_url=slack.response_url())
        body = urlencode(form)
        headers = {k.removeprefix("HTTP_").replace("_", "-"): v for k, v in signed(body).items()}
        pressed = requests.post(f"{base}/hooks/slack/actions", data=body, timeout=10,
                                headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
        assert pressed.status_code == 200, pressed.text
        wait_for(lambda: Incident.objects.get(pk=incident.pk).status == "acknowledged", "the acknowledgement",
                 data_dir)
        ack = incident.events.get(kind=EventKind.ACKNOWLEDGED)
        assert ack.source == "slack" and ack.actor == responder

        # 3. The thread says so, the root shows it, PagerDuty acknowledges the same alert.
        wait_for(lambda: any("cknowledged" in t for t in _texts(slack.replies(DEFAULT_CHANNEL_ID, root["ts"]))),
                 "the thread reply", data_dir)
        wait_for(lambda: any("cknowledged" in json.dumps(c) for c in slack.calls_to("chat.update")),
                 "the root message updated in place", data_dir)
        wait_for(lambda: pagerduty.actions(incident.key) == ["trigger", "acknowledge"],
                 "the PagerDuty acknowledgement with the same dedup key", data_dir)

        # 4. The broker goes away while a note is added: the note waits, then goes out exactly once.
        redis.stop()
        note = requests.post(f"{base}/api/v1/incidents/{incident.pk}/notes/", json={"text": "Rolled back 14:02"},
                             headers={"Authorization": f"Bearer {api_token}"}, timeout=30)
        assert note.status_code in (200, 201), note.text
        time.sleep(3)
        assert not any("Rolled back 14:02" in t for t in _texts(slack.replies(DEFAULT_CHANNEL_ID, root["ts"])))
        assert Delivery.objects.filter(kind="note", channel="slack").exclude(status="sent").exists()
        redis.start()
        wait_for(lambda: any("Rolled back 14:02" in t for t in _texts(slack.replies(DEFAULT_CHANNEL_ID, root["ts"]))),
                 "the note after the broker came back", data_dir, timeout=90)
        time.sleep(3)  # a duplicate would show up within a few sweeps
        posted = [t for t in _texts(slack.replies(DEFAULT_CHANNEL_ID, root["ts"])) if "Rolled back 14:02" in t]
        assert len(posted) == 1
        assert set(Delivery.objects.filter(channel__in=["slack", "pagerduty"]).values_list("status", flat=True)) == {"sent"}
    finally:
        stop(*procs)


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/health", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False
