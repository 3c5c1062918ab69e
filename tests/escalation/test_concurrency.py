"""Races on PostgreSQL (docs/escalation.md, "Exactly once"): two scheduler ticks at once page each
level once; an acknowledgement racing the tick either wins (nothing paged) or follows the
escalation on the timeline, never precedes it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from incidents import lifecycle
from incidents.escalation.engine import escalation_tick
from incidents.models import EventKind, Incident, Source
from incidents.notifications.models import Delivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads released at the same moment; their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _due_incidents(p1, policy, n: int) -> list[Incident]:
    """Incidents opened a minute ago whose level 2 (30 s) is due now."""
    ago = timezone.now() - timedelta(minutes=1)
    return [lifecycle.incident_open(title=f"Payments down {i}", severity=p1, source=Source.API,
                                    escalation_policy=policy, opened_at=ago) for i in range(n)]


def test_two_ticks_at_once_page_each_level_once(p1, alice, make_policy):
    policy = make_policy((0, [{"type": "slack_channel", "value": "C0PAY"}]), (30, [{"type": "user", "value": "alice"}]))
    incidents = _due_incidents(p1, policy, 40)
    first, second = _together(escalation_tick, escalation_tick)
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert sorted(first + second) == sorted((i.pk, 2) for i in incidents)
    for incident in incidents:
        assert incident.events.filter(kind=EventKind.ESCALATED, data__level=2).count() == 1
    assert Delivery.objects.filter(kind=EventKind.ESCALATED, target="U0ALICE").count() == 40


def test_an_acknowledgement_racing_the_tick_is_never_followed_by_an_escalation(p1, alice, responder, make_policy):
    policy = make_policy((0, [{"type": "slack_channel", "value": "C0PAY"}]), (30, [{"type": "user", "value": "alice"}]))
    for incident in _due_incidents(p1, policy, 12):
        def acknowledge(pk: int = incident.pk) -> Incident:
            return lifecycle.incident_acknowledge(incident=pk, actor=responder, source=Source.WEB)

        _together(escalation_tick, acknowledge)
        kinds = list(incident.events.filter(kind__in=[EventKind.ESCALATED, EventKind.ACKNOWLEDGED])
                     .order_by("id").values_list("kind", "data__level"))
        assert kinds in ([("escalated", 1), ("acknowledged", None)],
                         [("escalated", 1), ("escalated", 2), ("acknowledged", None)]), kinds
        paged = Delivery.objects.filter(incident=incident, target="U0ALICE").count()
        assert paged == (1 if ("escalated", 2) in kinds else 0)
        assert Incident.objects.get(pk=incident.pk).next_escalation_at is None
    # Each later tick finds nothing to do.
    assert escalation_tick(now=timezone.now() + timedelta(hours=1)) == []
