"""Schedules as rows: layers of participants taking turns, overrides on top, and where to reach
each user. Who is on call at a time is computed from these rows by ``resolve.py`` (docs/oncall.md)."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

DAY = 86_400
WEEK = 7 * DAY


def new_token() -> str:
    """A calendar feed's secret: whoever has the URL reads the feed, so it is long and random."""
    return secrets.token_urlsafe(32)


class Schedule(models.Model):
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA name, e.g. Europe/London.")
    description = models.TextField(blank=True)
    # The schedule's calendar feed: /oncall/ical/schedule/<token>.ics
    ical_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Layer(models.Model):
    """Participants taking turns. Layers are stacked: where a higher ``order`` has someone on
    call, it wins over the layers below; where it has nobody, the layers below show through."""

    class Rotation(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        CUSTOM = "custom", "Custom length"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    rotation = models.CharField(max_length=10, choices=Rotation.choices, default=Rotation.WEEKLY)
    # The length of one turn in wall-clock seconds (86400 for daily, 604800 for weekly).
    length_seconds = models.PositiveIntegerField(default=WEEK)
    # The first handoff, as a wall-clock time in the schedule's zone (not an instant: a change of
    # the schedule's zone keeps "Monday 09:00"). Nobody is on call in this layer before it.
    handoff_date = models.DateField()
    handoff_time = models.TimeField()

    class Meta:
        ordering = ["schedule", "-order", "id"]
        constraints = [models.CheckConstraint(condition=Q(length_seconds__gt=0), name="layer_length_positive")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or f"Layer {self.order + 1}"

    @property
    def handoff(self) -> datetime:
        """The first handoff as a naive wall-clock datetime in the schedule's zone."""
        return datetime.combine(self.handoff_date, self.handoff_time)


class LayerParticipant(models.Model):
    """One turn of a layer's rotation. A deleted user leaves the turn empty (``user`` NULL) rather
    than shifting everyone after them: nobody's weeks move, and the empty turn falls through to
    the layers below (or is a gap, warned about on the schedule page)."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["layer", "position", "id"]

    def __str__(self) -> str:
        return f"{self.layer}: #{self.position + 1} {self.user.get_username() if self.user else '(deleted user)'}"


class Override(models.Model):
    """Someone covers a window: while it lasts, they replace whoever the layers put on call."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["schedule", "starts_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="override_ends_after_start")]
        indexes = [
            # Resolving "who is on call at t" and the calendar: a schedule's overrides still ending after t.
            models.Index(fields=["schedule", "ends_at"], name="override_schedule_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} covers {self.schedule} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class ContactMethod(models.Model):
    """Where a user is paged. ``value`` is the channel's own target: a Slack member id (a direct
    message), an email address, a PagerDuty integration key. ``verified`` is set when the user
    confirms a test page reached them."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack direct message"
        EMAIL = "email", "Email"
        PAGERDUTY = "pagerduty", "PagerDuty"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=255)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "value"], name="one_contact_method_per_value")]

    def __str__(self) -> str:
        return f"{self.user.get_username()}: {self.kind}"


class CalendarFeed(models.Model):
    """A user's personal calendar feed of their shifts on every schedule: /oncall/ical/user/<token>.ics"""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_feed")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar of {self.user.get_username()}"
