"""The outbox's explicit targets: an event goes to exactly the targets named, not to the routes."""

from __future__ import annotations

from django.db import transaction

from incidents import lifecycle
from incidents.models import Source
from incidents.notifications import outbox
from incidents.notifications.models import Delivery
from tests.notifications.conftest import RecordingSender


def test_explicit_targets_replace_routing_and_skip_unknown_channels(db, p3, recorder: RecordingSender):
    incident = lifecycle.incident_open(title="Disk full", severity=p3, source=Source.WEB)
    Delivery.objects.all().delete()
    with transaction.atomic():
        event = lifecycle.record_event(incident, "silence", actor=None, source=Source.WEB, message="x")
        Delivery.objects.filter(event=event).delete()  # the routed announcement, if any
        created = outbox.deliveries_for_event(
            event, targets=[("recorder", "U0ALICE"), ("recorder", "U0ALICE"), ("nope", "x"), ("recorder", "#pay")])
    assert [(d.channel, d.target, d.status) for d in created] == [
        ("recorder", "U0ALICE", "pending"), ("recorder", "#pay", "pending")]
    # The routed default ("#ops") heard nothing of it.
    assert not Delivery.objects.filter(target="#ops", event=event).exists()


def test_explicit_targets_on_an_unconfigured_channel_are_previews_per_target(db, p3, recorder: RecordingSender):
    recorder.is_configured = False
    incident = lifecycle.incident_open(title="Disk full", severity=p3, source=Source.WEB)
    with transaction.atomic():
        event = lifecycle.record_event(incident, "silence", actor=None, source=Source.WEB)
        created = outbox.deliveries_for_event(event, targets=[("recorder", "U0BOB")])
    assert [(d.target, d.status) for d in created] == [("U0BOB", "preview")]
