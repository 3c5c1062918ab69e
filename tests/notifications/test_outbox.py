"""The outbox: one delivery per message per target in the transaction of the change, sent after
commit in order, retried with backoff, dead after the last attempt, never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Severity, Source
from incidents.notifications import outbox
from incidents.notifications.channels import TransportError
from incidents.notifications.models import Delivery, MessageTemplate
from opsportal.lib import broker

from .conftest import RecordingSender

pytestmark = pytest.mark.django_db


def test_it_writes_a_delivery_with_the_change_and_sends_it_after_commit(
    p1: Severity, recorder: RecordingSender, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    delivery = Delivery.objects.get(incident=incident)
    assert delivery.status == "pending" and delivery.target == "#ops" and delivery.kind == "opened"
    assert "INCIDENT ALERT - P1" in delivery.payload["text"] and "Issue: Checkout down" in delivery.payload["text"]
    assert callbacks, "the send is enqueued when the transaction commits"

    assert outbox.conversation_flush(delivery.conversation_id) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.external_ref == "msg-1"
    assert delivery.conversation.external_ref == f"thread-{delivery.conversation_id}"


def test_a_refused_change_writes_no_delivery(p1: Severity, recorder: RecordingSender) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    with pytest.raises(Exception, match="already acknowledged"):
        lifecycle.incident_acknowledge(incident=incident, actor=None, source=Source.WEB)
        lifecycle.incident_acknowledge(incident=incident, actor=None, source=Source.WEB)
    assert list(Delivery.objects.values_list("kind", flat=True)) == ["opened", "acknowledged"]


def test_it_sends_a_burst_as_one_batch_in_order(p1: Severity, recorder: RecordingSender) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    for n in range(3):
        lifecycle.incident_add_note(incident=incident, text=f"update {n}", actor=None, source=Source.WEB)
    conversation = Delivery.objects.get(kind="opened").conversation_id

    outbox.conversation_flush(conversation)

    assert len(recorder.batches) == 1
    assert [text.splitlines()[-1] for text in recorder.batches[0]][1:] == [
        "📝 Web: update 0", "📝 Web: update 1", "📝 Web: update 2"]


def test_it_retries_with_backoff_keeping_order_and_honours_retry_after(
    p1: Severity, recorder: RecordingSender
) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    conversation = Delivery.objects.get().conversation_id
    recorder.fail_with = [TransportError("Slack answered 429", retry_after=30)]

    assert outbox.conversation_flush(conversation) == 0
    failed = Delivery.objects.get()
    assert failed.status == "failed" and failed.attempts == 1 and "429" in failed.last_error
    assert failed.next_attempt_at is not None
    assert failed.next_attempt_at >= timezone.now() + timedelta(seconds=29)
    lifecycle.incident_add_note(incident=incident, text="later", actor=None, source=Source.WEB)
    assert outbox.conversation_flush(conversation) == 0, "nothing newer goes out before the retry"

    later = timezone.now() + timedelta(seconds=60)
    assert outbox.conversation_flush(conversation, now=later) == 2
    assert [t.splitlines()[0][:20] for t in recorder.batches[0]] == ["🚨 INCIDENT ALERT - P", "📝 Web: later"]


def test_it_gives_up_at_once_on_a_permanent_error_and_after_the_last_attempt(
    p1: Severity, recorder: RecordingSender, settings
) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 2
    lifecycle.incident_open(title="A", severity=p1, source=Source.WEB)
    first = Delivery.objects.get()
    recorder.fail_with = [TransportError("channel_not_found", permanent=True)]
    outbox.conversation_flush(first.conversation_id)
    first.refresh_from_db()
    assert first.status == "dead" and first.attempts == 1 and first.last_error == "channel_not_found"

    lifecycle.incident_open(title="B", severity=p1, source=Source.WEB)
    second = Delivery.objects.exclude(pk=first.pk).get()
    recorder.fail_with = [TransportError("timed out"), TransportError("timed out")]
    outbox.conversation_flush(second.conversation_id)
    outbox.conversation_flush(second.conversation_id, now=timezone.now() + timedelta(hours=1))
    second.refresh_from_db()
    assert second.status == "dead" and second.attempts == 2

    retried = outbox.delivery_retry_now(delivery=second)
    assert retried.status == "pending"
    outbox.conversation_flush(second.conversation_id)
    second.refresh_from_db()
    assert second.status == "sent"


def test_the_sweep_finds_what_was_never_enqueued_but_leaves_a_queued_flush_alone(
    p1: Severity, recorder: RecordingSender, settings
) -> None:
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    delivery = Delivery.objects.get()
    assert outbox.outbox_sweep() == [], "its flush was enqueued on commit: a second one would send nothing"
    lost = timezone.now() + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS + 1)
    assert outbox.outbox_sweep(now=lost) == [delivery.conversation_id]


def test_a_flush_the_broker_refused_is_swept_at_once(
    p1: Severity, recorder: RecordingSender, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(broker, "publish", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    delivery = Delivery.objects.get()
    assert outbox.outbox_sweep(now=timezone.now() + timedelta(seconds=1)) == [delivery.conversation_id]
    assert outbox.conversation_flush(delivery.conversation_id) == 1


def test_an_unconfigured_channel_keeps_a_preview_and_sends_nothing(
    p1: Severity, recorder: RecordingSender
) -> None:
    recorder.is_configured = False
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    delivery = Delivery.objects.get()
    assert delivery.status == "preview" and "INCIDENT ALERT" in delivery.payload["text"]
    assert outbox.outbox_sweep() == []


def test_an_edited_template_words_the_message(p1: Severity, recorder: RecordingSender) -> None:
    MessageTemplate.objects.create(event="opened", channel="recorder", body="{{ incident.title }} is down!")
    lifecycle.incident_open(title="Checkout", severity=p1, source=Source.WEB)
    assert Delivery.objects.get().payload["text"] == "Checkout is down!"


def test_after_a_send_the_next_messages_wait_a_moment_and_go_out_together(
    p1: Severity, recorder: RecordingSender, settings
) -> None:
    settings.NOTIFY_COALESCE_SECONDS = 3.0
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    conversation = Delivery.objects.get().conversation_id
    assert outbox.conversation_flush(conversation) == 1
    for n in range(5):
        lifecycle.incident_add_note(incident=incident, text=f"update {n}", actor=None, source=Source.WEB)

    assert outbox.conversation_flush(conversation) == 0, "held for the quiet time"
    assert outbox.conversation_flush(conversation, now=timezone.now() + timedelta(seconds=4)) == 5
    assert [len(batch) for batch in recorder.batches] == [1, 5]


def test_the_writes_of_an_event_do_not_grow_with_the_number_of_channels(
    p1: Severity, recorder: RecordingSender, monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries,
) -> None:
    from incidents.notifications.channels import MessageChannel
    from incidents.registry import registry

    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    channels = [MessageChannel(name=f"rec{n}", label=f"Rec {n}", sender=recorder, events=frozenset({"note"}))
                for n in range(6)]
    monkeypatch.setattr(registry, "message_channels", channels)
    lifecycle.incident_add_note(incident=incident, text="warm-up", actor=None, source=Source.WEB)
    # A lock, the event, routes (2), templates, conversations, their deliveries; not a query per channel.
    with django_assert_max_num_queries(12):
        lifecycle.incident_add_note(incident=incident, text="Rolled back", actor=None, source=Source.WEB)
    assert Delivery.objects.filter(kind="note").count() == 12


@pytest.fixture
def published(settings, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The conversation ids of each flush handed to the broker, with a 3 s quiet time (no publish
    is remembered from earlier tests: tests/conftest.py)."""
    settings.NOTIFY_COALESCE_SECONDS = 3.0
    handed: list[list[int]] = []
    monkeypatch.setattr(broker, "publish", lambda name, args: handed.append(list(args)))
    return handed


def test_a_thread_just_handed_to_a_worker_is_not_published_again_and_loses_nothing(
    p1: Severity, recorder: RecordingSender, published: list[list[int]], django_capture_on_commit_callbacks,
) -> None:

    with django_capture_on_commit_callbacks(execute=True):
        incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    for n in range(3):  # a storm's follow-ups, each its own commit
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.incident_add_note(incident=incident, text=f"update {n}", actor=None, source=Source.WEB)
    conversation = Delivery.objects.get(kind="opened").conversation_id

    assert published == [[conversation]], "one flush for the thread, not one per event"
    assert outbox.conversation_flush(conversation) == 4, "that flush sends the follow-ups too"
    with django_capture_on_commit_callbacks(execute=True):
        other = lifecycle.incident_open(title="Search down", severity=p1, source=Source.WEB)
    assert published[-1] == [Delivery.objects.get(incident=other).conversation_id], "a new incident is enqueued at once"


def test_a_thread_in_its_quiet_time_is_left_to_the_sweep_which_sends_it_in_order(
    p1: Severity, recorder: RecordingSender, published: list[list[int]], django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    conversation = Delivery.objects.get(kind="opened").conversation_id
    assert outbox.conversation_flush(conversation) == 1
    outbox._enqueued_at.clear()  # long after: this process would publish again

    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.incident_add_note(incident=incident, text=f"update {n}", actor=None, source=Source.WEB)

    assert published == [[conversation]], "a flush now would find the thread quiet and send nothing"
    assert outbox.outbox_sweep() == [], "not due yet"
    after_quiet = timezone.now() + timedelta(seconds=4)
    assert outbox.outbox_sweep(now=after_quiet) == [conversation]
    assert outbox.conversation_flush(conversation, now=after_quiet) == 3
    assert [text.splitlines()[-1] for text in recorder.batches[1]] == [
        "📝 Web: update 0", "📝 Web: update 1", "📝 Web: update 2"]


def test_with_the_workers_down_a_due_conversation_is_queued_once_per_lease_not_once_per_sweep(
    p1: Severity, recorder: RecordingSender, published: list[list[int]], settings
) -> None:
    """The broker is up and no worker takes the flushes: each sweep (every second) used to queue
    every due conversation again, so a ten-minute worker outage left thousands of tasks behind."""
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    conversation = Delivery.objects.get(kind="opened").conversation_id
    later = timezone.now() + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS + 1)
    assert outbox.outbox_sweep(now=later) == [conversation]
    for second in range(1, 10):
        assert outbox.outbox_sweep(now=later + timedelta(seconds=second)) == [], "its flush is still queued"
    assert published == [[conversation]]

    settings.NOTIFY_LEASE_SECONDS = 0  # the lease time has passed since: the task counts as lost
    assert outbox.outbox_sweep(now=later) == [conversation]
    settings.NOTIFY_LEASE_SECONDS = 60

    # Once its flush has run, what is due next is handed over at once.
    assert outbox.conversation_flush(conversation, now=later) == 1
    lifecycle.incident_add_note(incident=incident, text="Rolled back", actor=None, source=Source.WEB)
    after_quiet = later + timedelta(seconds=settings.NOTIFY_COALESCE_SECONDS + 1)
    assert outbox.outbox_sweep(now=after_quiet) == [conversation]
    assert outbox.conversation_flush(conversation, now=after_quiet) == 1


def test_a_message_committed_while_a_flush_found_nothing_is_not_stranded(
    p1: Severity, recorder: RecordingSender, monkeypatch: pytest.MonkeyPatch,
) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    conversation = Delivery.objects.get(kind="opened").conversation_id
    assert outbox.conversation_flush(conversation) == 1
    # A flush that read nothing due, while a note commits before it lets go of its lease.
    real_due = outbox._due_in_order

    def due_then_a_note_commits(*args, **kwargs):
        found = real_due(*args, **kwargs)
        lifecycle.incident_add_note(incident=incident, text="late", actor=None, source=Source.WEB)
        return found

    monkeypatch.setattr(outbox, "_due_in_order", due_then_a_note_commits)
    later = timezone.now() + timedelta(seconds=10)
    assert outbox.conversation_flush(conversation, now=later) == 0
    monkeypatch.setattr(outbox, "_due_in_order", real_due)

    assert outbox.outbox_sweep(now=later + timedelta(seconds=1)) == [conversation], "due for the next sweep"
    assert outbox.conversation_flush(conversation, now=later + timedelta(seconds=1)) == 1


def test_a_template_cannot_change_what_another_channel_renders(
    p1: Severity, recorder: RecordingSender, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from incidents.notifications.channels import MessageChannel
    from incidents.notifications.rendering import template_check
    from incidents.registry import registry
    from opsportal.lib.exceptions import ApplicationError

    meddling = '{{ incident.labels.update({"service": "hacked"}) }}{{ incident.labels.service }}'
    with pytest.raises(ApplicationError, match="does not render"):
        template_check("", meddling)
    # Stored anyway (an older version, a database edit): it fails at send time, the next channel
    # sees the incident as it is.
    first, second = (MessageChannel(name=name, label=name, sender=recorder, events=frozenset({"opened"}))
                     for name in ("first", "second"))
    monkeypatch.setattr(registry, "message_channels", [first, second])
    MessageTemplate.objects.create(event="opened", channel="first", body=meddling)
    MessageTemplate.objects.create(event="opened", channel="second", body="service={{ incident.labels.service }}")
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB, labels={"service": "checkout"})

    first_payload = Delivery.objects.get(channel="first").payload
    assert "template_error" in first_payload and "hacked" not in first_payload["text"]
    assert Delivery.objects.get(channel="second").payload["text"] == "service=checkout"


@pytest.mark.postgres
def test_a_later_event_of_a_committed_conversation_writes_its_deliveries_without_reading_it(
    p1: Severity, recorder: RecordingSender, published: list[list[int]], django_capture_on_commit_callbacks,
) -> None:
    """A storm's posts add to the same few conversations thousands of times: once the process has
    seen one committed it is not read again; its next_send_at comes back with the insert."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    recorder.targets = ["#ops", "#eu-ops"]
    with django_capture_on_commit_callbacks(execute=True):
        incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    ops, eu_ops = (Delivery.objects.get(kind="opened", target=t).conversation_id for t in ("#ops", "#eu-ops"))
    assert outbox.conversation_flush(ops) == 1  # now in its quiet time; #eu-ops is still idle
    outbox._enqueued_at.clear()
    published.clear()

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        lifecycle.incident_add_note(incident=incident, text="Rolled back", actor=None, source=Source.WEB)
    assert not [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "notifications_conversation" in q["sql"]]
    notes = dict(Delivery.objects.filter(kind="note").values_list("target", "conversation_id"))
    assert notes == {"#ops": ops, "#eu-ops": eu_ops}
    assert published == [[eu_ops]], "the idle thread is handed to a worker; the quiet one is left to the sweep"


def test_a_conversation_made_in_a_transaction_that_rolled_back_is_made_again(
    p1: Severity, recorder: RecordingSender, django_capture_on_commit_callbacks,
) -> None:
    """The process remembers only committed conversations: one it made in a post that failed
    afterwards does not exist, and the next message to that target must not point at it."""
    from django.db import transaction

    from incidents.notifications.routing import route_create

    with django_capture_on_commit_callbacks(execute=True):
        incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    route_create(channel="recorder", target="#incidents")
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.incident_add_note(incident=incident, text="lost with its post", actor=None, source=Source.WEB)
        raise RuntimeError("the rest of the post failed")

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.incident_add_note(incident=incident, text="Rolled back", actor=None, source=Source.WEB)
    note = Delivery.objects.get(kind="note", target="#incidents")
    assert outbox.conversation_flush(note.conversation_id) == 1
    assert [text.splitlines()[-1] for text in recorder.batches[-1]] == ["📝 Web: Rolled back"]
