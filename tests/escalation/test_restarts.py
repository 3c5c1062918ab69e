"""Every level fires once when the worker and the scheduler are killed mid-escalation and started
again: real ``bin/serve`` processes on PostgreSQL and a Redis of the test's own, the Slack contract
server receiving the messages (docs/escalation.md, "Exactly once")."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from incidents import lifecycle
from incidents.models import EventKind, Incident, Source
from incidents.notifications.models import Delivery
from tests.contracts.slack import DEFAULT_CHANNEL_ID, SIGNING_SECRET, SlackContractServer
from tests.ops.processes import child_env, serve, stop, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
DELAY = 4



@pytest.fixture
def slack() -> Iterator[SlackContractServer]:
    server = SlackContractServer().start()
    server.add_channel("payments-managers", channel_id="C0MGR")
    # Slack delivers a message posted to a user id as a direct message from the app.
    server.add_channel("dm-alice", channel_id="U0ALICE")
    yield server
    server.stop()


def test_killed_worker_and_scheduler_page_every_level_once(data_dir, own_redis, slack, settings, p1, alice, make_policy):
    db = connection.settings_dict
    env = child_env(
        data_dir,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=own_redis.url, ESCALATION_TICK_SECONDS="0.5", NOTIFY_SWEEP_SECONDS="1", NOTIFY_BACKOFF_SECONDS="1",
        WORKER_CONCURRENCY="1", SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url, SLACK_DEFAULT_CHANNEL="", OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8",
        SLACK_INCIDENT_CHANNEL_SEVERITIES="",
    )
    settings.SLACK_BOT_TOKEN, settings.SLACK_API_URL = slack.token, slack.api_url
    settings.SLACK_DEFAULT_CHANNEL, settings.SLACK_INCIDENT_CHANNEL_SEVERITIES = "", []
    policy = make_policy((0, [{"type": "slack_channel", "value": DEFAULT_CHANNEL_ID}]),
                         (DELAY, [{"type": "user", "value": "alice"}]),
                         (DELAY, [{"type": "slack_channel", "value": "C0MGR"}]))
    worker, scheduler = serve("worker", data_dir, env), serve("scheduler", data_dir, env)
    try:
        incident = lifecycle.incident_open(title="Payments down", severity=p1, source=Source.API,
                                           escalation_policy=policy)
        escalated = Incident.objects.get(pk=incident.pk).events.filter(kind=EventKind.ESCALATED)

        wait_for(lambda: escalated.filter(data__level=2).exists(), "level 2", data_dir)
        stop(worker, scheduler, sig=signal.SIGKILL)  # mid-escalation: level 3 is due while they are down
        level_3_due = Incident.objects.get(pk=incident.pk).next_escalation_at
        assert level_3_due is not None and not escalated.filter(data__level=3).exists()
        wait_for(lambda: Incident.objects.filter(pk=incident.pk, next_escalation_at__lt=_db_now()).exists(),
                 "level 3 to fall due while the processes are down", data_dir)

        worker, scheduler = serve("worker", data_dir, env), serve("scheduler", data_dir, env)
        wait_for(lambda: escalated.filter(data__level=3).exists(), "level 3 after the restart", data_dir)
        wait_for(lambda: slack.roots("C0MGR"), "the level 3 message in Slack", data_dir)
        wait_for(lambda: slack.roots("U0ALICE"), "alice's direct message", data_dir)
        # Every escalation message sent (several ticks and sweeps after level 3): nothing was paged twice.
        # (alice's email is a preview: email is not configured here.)
        unsent = Delivery.objects.filter(incident=incident, kind=EventKind.ESCALATED, status__in=["pending", "failed"])
        wait_for(lambda: not unsent.exists(), "every message sent", data_dir)
    finally:
        stop(worker, scheduler)
    assert sorted(escalated.values_list("data__level", flat=True)) == [1, 2, 3]
    assert len(slack.roots(DEFAULT_CHANNEL_ID)) == 1
    assert len(slack.roots("U0ALICE")) == 1 and "Escalated to level 2: alice" in slack.roots("U0ALICE")[0]["text"]
    assert len(slack.roots("C0MGR")) == 1 and "Escalated to level 3: Slack C0MGR" in slack.roots("C0MGR")[0]["text"]


def _db_now() -> Any:
    """The database's clock: the one the timers run on."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        row = cursor.fetchone()
    return row[0] if row else None
