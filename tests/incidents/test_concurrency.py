"""Two people acknowledging the same incident at once on PostgreSQL: one wins, one is told."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from incidents import lifecycle
from incidents.models import EventKind, Source
from opsportal.lib.exceptions import ConflictError


def _ack(incident_id: int, user, barrier: threading.Barrier, outcomes: dict[str, str]) -> None:
    try:
        barrier.wait()
        lifecycle.incident_acknowledge(incident=incident_id, actor=user, source=Source.WEB)
        outcomes[user.username] = "won"
    except ConflictError as exc:
        outcomes[user.username] = exc.message
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_concurrent_acknowledgements_win(p1, responder, other_responder):
    for _ in range(5):  # several rounds: the race must never produce two winners
        incident = lifecycle.incident_open(title="Payments down", severity=p1, source=Source.ALERTMANAGER)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}
        threads = [threading.Thread(target=_ack, args=(incident.pk, u, barrier, outcomes))
                   for u in (responder, other_responder)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes.values()).count("won") == 1
        winner = next(name for name, outcome in outcomes.items() if outcome == "won")
        loser_message = next(outcome for outcome in outcomes.values() if outcome != "won")
        assert loser_message == f"Incident #{incident.pk} is already acknowledged by {winner}."
        acks = incident.events.filter(kind=EventKind.ACKNOWLEDGED)
        assert list(acks.values_list("actor__username", flat=True)) == [winner]
