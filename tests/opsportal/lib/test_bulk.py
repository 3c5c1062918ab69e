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
