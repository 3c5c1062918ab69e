"""A channel the outbox tests can watch: it keeps what it was asked to send and fails on demand.
The real channels (Slack, PagerDuty, email) are tested against contract servers of their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from incidents.models import TimelineEvent
from incidents.notifications.channels import Batch, MessageChannel, Outcome, TransportError
from incidents.registry import registry


@dataclass
class RecordingSender:
    targets: list[str] = field(default_factory=lambda: ["#ops"])
    is_configured: bool = True
    fail_with: list[TransportError] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)

    def configured(self) -> bool:
        return self.is_configured

    def default_targets(self) -> list[str]:
        return self.targets

    def announces(self, event: TimelineEvent) -> bool:
        return event.source != "pagerduty"

    def send(self, batch: Batch) -> Outcome:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.batches.append([d.payload["text"] for d in batch.deliveries])
        n = len(self.batches)
        return Outcome(sent={d.pk: f"msg-{n}" for d in batch.deliveries},
                       conversation={"external_ref": f"thread-{batch.conversation.pk}"})


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingSender]:
    sender = RecordingSender()
    channel = MessageChannel(
        name="recorder", label="Recorder", sender=sender,
        events=frozenset({"opened", "acknowledged", "note", "resolved", "sla_breached", "alerts"}),
    )
    monkeypatch.setattr(registry, "message_channels", [channel])
    yield sender
