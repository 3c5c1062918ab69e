"""``bulk.insert_objects`` stores instances as ``bulk_create`` would: defaults, ``auto_now_add``,
JSON and foreign keys, primary keys read back, constraint violations raised."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict

from incidents import lifecycle
from incidents.models import Severity, Source
from incidents.notifications.models import Conversation, Delivery
from opsportal.lib import bulk

pytestmark = pytest.mark.django_db


def test_it_stores_instances_as_the_orm_does(p1: Severity) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    event = incident.events.get()
    made = [Conversation(incident=incident, channel="slack", target=f"C0{n}") for n in range(3)]

    assert list(bulk.insert_objects(made)) == made
    [delivery] = bulk.insert_objects([Delivery(
        conversation=made[0], incident=incident, event=event, kind="opened", channel="slack", target="C00",
        payload={"text": "Checkout down", "blocks": [{"type": "section"}], "n": 1.5}, created_at=event.created_at,
    )])

    assert all(c.pk and not c._state.adding for c in made)
    for conversation in made:
        stored = Conversation.objects.get(pk=conversation.pk)
        assert model_to_dict(stored) == model_to_dict(conversation)
        assert stored.created_at == conversation.created_at is not None  # auto_now_add
    row = Delivery.objects.get(pk=delivery.pk)
    assert model_to_dict(row) == model_to_dict(delivery)
    assert row.payload["blocks"] == [{"type": "section"}] and row.status == "pending" and row.attempts == 0


def test_a_constraint_violation_raises_integrity_error(p1: Severity) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    bulk.insert_objects([Conversation(incident=incident, channel="slack", target="C0")])

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_objects([Conversation(incident=incident, channel="slack", target="C0")])


def test_rows_where_reads_what_the_orm_reads(p1: Severity) -> None:
    """Alert rows as a repeat post compares them: the same values as ``values_list``, timestamps
    aware and in UTC (read by psycopg's own loader on PostgreSQL), JSON decoded."""
    from datetime import datetime, timedelta, timezone

    from incidents.integrations.alertmanager.models import Alert, Integration

    incident = lifecycle.incident_open(title="Disk full", severity=p1, source=Source.WEB)
    integration = Integration.objects.create(name="prod", token_hash="0" * 64, token_prefix="amk_0000")
    starts = datetime(2026, 3, 29, 1, 59, 59, 123456, tzinfo=timezone(timedelta(hours=-7)))
    for n, ends in enumerate((None, starts + timedelta(minutes=5))):
        Alert.objects.create(integration=integration, incident=incident, fingerprint=f"f{n}", status="firing",
                             labels={"alertname": "Disk", "n": str(n)}, annotations={}, starts_at=starts,
                             ends_at=ends, first_seen_at=starts, last_seen_at=starts)
    fields = ("fingerprint", "starts_at", "ends_at", "labels")

    rows = bulk.rows_where(Alert, fields, equal=("incident", incident.pk), any_of=("fingerprint", ["f0", "f1", "x"]))

    expected = list(Alert.objects.filter(incident=incident).values_list(*fields))
    assert sorted(rows) == sorted(expected)
    by_fingerprint = {row[0]: row for row in rows}
    assert by_fingerprint["f0"][1] == starts and by_fingerprint["f0"][2] is None
    assert by_fingerprint["f1"][2].utcoffset() == timedelta(0) and by_fingerprint["f1"][2] - starts == timedelta(minutes=5)
    assert by_fingerprint["f1"][3] == {"alertname": "Disk", "n": "1"}


@pytest.mark.django_db(transaction=True)  # no test transaction around it: a half-done update would stay
def test_updates_made_together_take_effect_together_or_not_at_all(p1: Severity) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    [conversation] = bulk.insert_objects([Conversation(incident=incident, channel="slack", target="C01")])
    [delivery] = bulk.insert_objects([Delivery(
        conversation=conversation, incident=incident, kind="opened", channel="slack", target="C01",
        payload={"text": "Checkout down"}, created_at=incident.opened_at,
    )])

    bulk.update_records_together(
        (Delivery, [{"id": delivery.pk, "status": "sent", "attempts": 1}]),
        (Conversation, [{"id": conversation.pk, "external_ref": "C01:1712345678.000100", "state": {"a": [1]}}]),
    )
    delivery.refresh_from_db()
    conversation.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert (conversation.external_ref, conversation.state) == ("C01:1712345678.000100", {"a": [1]})

    with pytest.raises(IntegrityError):  # the second update breaks NOT NULL
        bulk.update_records_together(
            (Delivery, [{"id": delivery.pk, "status": "dead", "attempts": 2}]),
            (Conversation, [{"id": conversation.pk, "channel": None}]),
        )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1), "the first update was not kept either"
