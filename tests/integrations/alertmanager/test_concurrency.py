"""Storm safety on PostgreSQL: webhooks racing for one alert group make exactly one incident
(the "one_open_incident_per_group" constraint plus row locks, not luck)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings

from incidents.integrations.alertmanager.models import Alert
from incidents.models import EventKind, Incident, Status

from .webhook_support import URL, alert, make_hook, payload

# Transactional: each thread commits on its own connection. The flush at the end also empties the
# migrated severities, so the tests ask for the shared `severities` fixture, which recreates them.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(bodies: list[bytes], token: str) -> list[tuple[int, dict[str, Any]]]:
    """POST every body at once, each from its own thread with its own database connection."""
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def send(body: bytes) -> None:
        try:
            barrier.wait()
            response = Client().post(URL, data=body, content_type="application/json",
                                     HTTP_AUTHORIZATION=f"Bearer {token}")
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results



def test_it_makes_exactly_one_incident_from_twenty_parallel_webhooks_for_one_group(severities) -> None:
    hook = make_hook()
    for round_ in range(3):  # several rounds: the race must never produce two incidents
        group = f'{{}}:{{alertname="Storm{round_}"}}'
        bodies = [
            json.dumps(payload([alert("shared", alertname=f"Storm{round_}"),
                                alert(f"node-{i}", alertname=f"Storm{round_}")], group_key=group)).encode()
            for i in range(20)
        ]

        results = race(bodies, hook.token)

        assert [status for status, _ in results] == [200] * 20, results
        incidents = list(Incident.objects.filter(title__contains=f"Storm{round_}"))
        assert len(incidents) == 1
        incident = incidents[0]
        assert {body["incident"] for _, body in results} == {incident.pk}
        assert sorted(body["action"] for _, body in results).count("opened") == 1
        assert incident.alerts.count() == 21  # "shared" once, plus one per sender
        assert incident.alerts.get(labels__instance="shared").times_received == 20
        assert incident.events.filter(kind=EventKind.OPENED).count() == 1


def test_it_reopens_a_resolved_incident_once_when_parallel_webhooks_refire_it(severities) -> None:
    hook = make_hook()
    group = '{}:{alertname="Flappy"}'
    hook.post(payload([alert("web-1", alertname="Flappy")], group_key=group))
    hook.post(payload([alert("web-1", alertname="Flappy", status="resolved", ends_at="2026-11-23T09:10:00Z")],
                      group_key=group))
    incident = Incident.objects.get()
    assert incident.status == Status.RESOLVED
    bodies = [
        json.dumps(payload([alert("web-1", alertname="Flappy", starts_at="2026-11-23T10:00:00Z"),
                            alert(f"web-{i + 2}", alertname="Flappy")], group_key=group)).encode()
        for i in range(10)
    ]

    results = race(bodies, hook.token)

    assert [status for status, _ in results] == [200] * 10
    assert Incident.objects.count() == 1
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED
    assert incident.events.filter(kind=EventKind.REOPENED).count() == 1
    assert sorted(body["action"] for _, body in results).count("reopened") == 1
    assert Alert.objects.filter(incident=incident).count() == 11


@override_settings(ALERTMANAGER_LOCK_TIMEOUT_SECONDS=0.5)
@pytest.mark.parametrize("pool", ["web", "hooks"])
def test_it_answers_503_instead_of_hanging_when_the_incident_stays_locked(
    severities, pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if pool == "hooks":
        # Connect as the hooks pool does: lock_timeout set per connection, no statement per post.
        options = connection.settings_dict.setdefault("OPTIONS", {})
        monkeypatch.setitem(options, "options", f"{options.get('options', '')} -c lock_timeout=500ms")
        connection.close()
    hook = make_hook()
    body = json.dumps(payload([alert("web-1")])).encode()
    assert hook.post(body).status_code == 200
    incident = Incident.objects.get()
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                Incident.objects.select_for_update().get(pk=incident.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        response = hook.post(body)
    finally:
        release.set()
        holder.join(timeout=30)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert Alert.objects.get().times_received == 1  # nothing of the refused post was kept
    assert hook.post(body).status_code == 200  # the retry goes through once the lock is gone
    connection.close()  # the next test connects afresh


def test_it_splits_parallel_multi_group_posts_without_deadlocks_or_duplicates(severities) -> None:
    hook = make_hook("by-instance", grouping="labels", group_by_labels=["instance"])
    instances = [f"web-{i}" for i in range(6)]
    bodies = []
    for sender in range(12):
        order = instances[sender % 6:] + instances[:sender % 6]  # every sender lists the groups differently
        bodies.append(json.dumps(payload([alert(name, alertname="Split") for name in order])).encode())

    results = race(bodies, hook.token)

    assert [status for status, _ in results] == [200] * 12, results
    assert Incident.objects.count() == 6
    assert {len(body["incidents"]) for _, body in results} == {6}
    assert sorted(Incident.objects.values_list("alerts__labels__instance", flat=True)) == instances
