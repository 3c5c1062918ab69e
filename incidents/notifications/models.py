"""Outgoing messages as rows: written in the transaction of the change that caused them, sent after
commit, retried until delivered or visibly dead (docs/architecture.md section 4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from incidents.models import Incident, Service, Severity, TimelineEvent

TARGET_MAX = 255


class Conversation(models.Model):
    """One incident on one target of one channel: a Slack thread, a PagerDuty alert, an email
    thread. Sends for a conversation happen one at a time, in order (its row is the lock), and it
    remembers what the channel needs to go on (the root message's ts, the dedup key)."""

    # None: a message to one person outside any incident (a test page); outbox.direct_message_create.
    # Indexed by one_conversation_per_target (incident, channel, target).
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="conversations", db_index=False)
    channel = models.CharField(max_length=32)
    target = models.CharField(max_length=TARGET_MAX)
    # Where the conversation lives on the other side: "C0123:1712345678.000100" for Slack.
    external_ref = models.CharField(max_length=255, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    state = models.JSONField(default=dict, blank=True)
    # Not before this time (the channel's rate limit, or Retry-After): the next flush waits.
    next_send_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "channel", "target"], name="one_conversation_per_target"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.target} for #{self.incident_id}"


class Delivery(models.Model):
    """One message about one timeline event to one target."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will retry)"
        DEAD = "dead", "Dead (gave up)"
        PREVIEW = "preview", "Not configured (preview)"

    # Both indexed by the composite indexes below (delivery_conversation, delivery_incident).
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries",
                                 db_index=False)
    event = models.ForeignKey(TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=32, help_text="The timeline event kind this message announces.")
    channel = models.CharField(max_length=32)
    target = models.CharField(max_length=TARGET_MAX)
    # The message as rendered from its template when the event happened: {"subject"?, "text"}.
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    external_ref = models.CharField(max_length=255, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Outbox sweep: deliveries still to send whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="delivery_due",
            ),
            # A conversation's flush: its unsent deliveries in order.
            models.Index(fields=["conversation", "status", "created_at"], name="delivery_conversation"),
            # Incident page: its deliveries, newest first.
            models.Index(fields=["incident", "-created_at"], name="delivery_incident"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.kind} → {self.channel}:{self.target} ({self.status})"


class MessageTemplate(models.Model):
    """The wording of one kind of message on one channel, edited in the browser. A channel without
    a row for an event uses its built-in default."""

    event = models.CharField(max_length=32)
    channel = models.CharField(max_length=32)
    subject = models.CharField(max_length=500, blank=True, help_text="Email subject; unused elsewhere.")
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "channel"], name="one_template_per_event_channel")]
        ordering = ["channel", "event"]

    def __str__(self) -> str:
        return f"{self.channel}/{self.event}"


class Route(models.Model):
    """Which target of a channel gets which incidents: by service and severity. An incident goes
    to every matching enabled route; a channel no route matches uses its default target from
    settings (e.g. SLACK_DEFAULT_CHANNEL)."""

    channel = models.CharField(max_length=32)
    target = models.CharField(max_length=TARGET_MAX, help_text="Slack channel id, PagerDuty routing key, emails.")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Empty: every service (and incidents without one).",
    )
    severities = models.ManyToManyField(Severity, blank=True, related_name="+", help_text="Empty: every severity.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.target}"
