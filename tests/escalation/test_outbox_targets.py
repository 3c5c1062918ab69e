"""The outbox's explicit targets: an event goes to the targets named, and to the routes only on a
channel that asks for it (Slack: the incident's thread hears each escalation)."""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Source, TimelineEvent
from incidents.notifications import outbox
from incidents.notifications.models import Delivery
from incidents.registry import registry
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


def test_a_channel_whose_routes_hear_targeted_events_gets_the_route_and_the_targets_once_each(
        db, p3, recorder: RecordingSender, monkeypatch):
    channel = dataclasses.replace(registry.message_channels[0], routes_hear_targeted=True)
    monkeypatch.setattr(registry, "message_channels", [channel])
    incident = lifecycle.incident_open(title="Disk full", severity=p3, source=Source.WEB)
    with transaction.atomic():
        event = TimelineEvent.objects.create(incident=incident, kind="note", source=Source.WEB, message="x",
                                             created_at=timezone.now())
        created = outbox.deliveries_for_event(event, targets=[("recorder", "U0ALICE"), ("recorder", "#ops")])
    # The routed default "#ops" (the incident's thread) once, though a target names it too.
    assert [(d.target, d.status) for d in created] == [("#ops", "pending"), ("U0ALICE", "pending")]
    # A kind the channel does not announce still goes to the targets only.
    with transaction.atomic():
        event = TimelineEvent.objects.create(incident=incident, kind="silence", source=Source.WEB, message="x",
                                             created_at=timezone.now())
        created = outbox.deliveries_for_event(event, targets=[("recorder", "U0ALICE")])
    assert [d.target for d in created] == ["U0ALICE"]
