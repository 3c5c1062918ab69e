"""Incidents, their severities and services, and the timeline that records every change.

State is written only by ``incidents.lifecycle`` (docs/architecture.md section 1).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q


class Severity(models.Model):
    """A severity level with its SLA targets; rank 1 is the most urgent."""

    name = models.CharField(max_length=16, unique=True, help_text="Short name, e.g. P1.")
    label = models.CharField(max_length=50, help_text="e.g. Critical.")
    rank = models.PositiveSmallIntegerField(unique=True, help_text="1 is the most urgent.")
    colour = models.CharField(
        max_length=7,
        default="#6b7280",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour like #dc2626.")],
    )
    description = models.CharField(max_length=300, blank=True)
    response_target = models.DurationField(help_text="Time allowed until acknowledgement.")
    resolution_target = models.DurationField(help_text="Time allowed until resolution.")

    class Meta:
        ordering = ["rank"]
        verbose_name_plural = "severities"

    def __str__(self) -> str:
        return f"{self.name} {self.label}"

    def deadlines(self, opened_at: datetime) -> tuple[datetime, datetime]:
        """(response_due_at, resolve_due_at) for an incident of this severity opened at ``opened_at``."""
        return opened_at + self.response_target, opened_at + self.resolution_target


class Service(models.Model):
    """What an incident affects, and the team that owns it."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    owner_team = models.CharField(max_length=100, blank=True)
    escalation_policy = models.ForeignKey(
        "escalation.EscalationPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="services",
        help_text="Who is paged for this service's incidents; empty: the default policy.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Source(models.TextChoices):
    """Where a change came from; recorded on incidents and timeline events."""

    WEB = "web", "Web"
    API = "api", "API"
    ALERTMANAGER = "alertmanager", "Alertmanager"
    SLACK = "slack", "Slack"
    PAGERDUTY = "pagerduty", "PagerDuty"
    SCHEDULER = "scheduler", "Scheduler"
    RUNBOOK = "runbook", "Runbook"


class Status(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED)

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
LABELS_MAX_BYTES = 16_384


def _new_key() -> str:
    return "inc-" + secrets.token_hex(8)


class Incident(models.Model):
    title = models.CharField(max_length=TITLE_MAX)
    description = models.TextField(blank=True, max_length=DESCRIPTION_MAX)
    # Indexed by incident_severity_status (severity, status): a second index only cost every write.
    severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="incidents", db_index=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRIGGERED)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    labels = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEB)
    # Stable public key: the dedup key we hand to PagerDuty and the id in Slack buttons.
    key = models.CharField(max_length=32, unique=True, default=_new_key, editable=False)
    # Grouping key of the alert group this incident stands for (Alertmanager groupKey, hashed).
    # At most one *open* incident per group: see the constraint below.
    group_key = models.CharField(max_length=128, null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    response_due_at = models.DateTimeField()
    resolve_due_at = models.DateTimeField()
    response_breached_at = models.DateTimeField(null=True, blank=True)
    resolve_breached_at = models.DateTimeField(null=True, blank=True)

    # Escalation (docs/escalation.md): the policy as it was when escalation started, the last
    # level paged (0: none yet) in pass ``escalation_repeat``, and when the next level is due.
    escalation_policy = models.ForeignKey(
        "escalation.EscalationPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_snapshot = models.JSONField(default=dict, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalation_repeat = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["group_key"],
                condition=Q(status__in=["triggered", "acknowledged", "mitigated"]) & Q(group_key__isnull=False),
                name="one_open_incident_per_group",
            ),
        ]
        indexes = [
            # Dashboard: open incidents by status/severity, most urgent deadline first.
            models.Index(fields=["status", "resolve_due_at"], name="incident_status_resolve_due"),
            # SLA tick: unacknowledged incidents whose response deadline has passed.
            models.Index(
                fields=["response_due_at"],
                condition=Q(status="triggered", response_breached_at__isnull=True),
                name="incident_response_due_open",
            ),
            # SLA tick: unresolved incidents whose resolution deadline has passed.
            models.Index(
                fields=["resolve_due_at"],
                condition=Q(
                    status__in=["triggered", "acknowledged", "mitigated"], resolve_breached_at__isnull=True
                ),
                name="incident_resolve_due_open",
            ),
            models.Index(fields=["severity", "status"], name="incident_severity_status"),
            # Alertmanager grouping: the latest incident of a group, to reopen within the window.
            models.Index(fields=["group_key", "-opened_at"], name="incident_group_latest"),
            # Escalation tick: unacknowledged incidents whose next level is due, soonest first
            # (escalation.engine.escalation_tick); acknowledging clears the due time.
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(status="triggered", next_escalation_at__isnull=False),
                name="incident_escalation_due",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def next_deadline(self) -> datetime | None:
        """The SLA deadline that matters now: response while unacknowledged, else resolution."""
        if self.status == Status.TRIGGERED:
            return self.response_due_at
        if self.is_open:
            return self.resolve_due_at
        return None

    @property
    def is_breached(self) -> bool:
        return bool(self.response_breached_at or self.resolve_breached_at)

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        return self.acknowledged_at - self.opened_at if self.acknowledged_at else None

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.opened_at if self.resolved_at else None


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    CLOSED = "closed", "Closed"
    ASSIGNED = "assigned", "Commander assigned"
    SEVERITY_CHANGED = "severity_changed", "Severity changed"
    NOTE = "note", "Note"
    SLA_BREACHED = "sla_breached", "SLA breached"
    ALERTS = "alerts", "Alerts"
    SILENCE = "silence", "Silence"
    RUNBOOK = "runbook", "Runbook"
    ESCALATED = "escalated", "Escalated"


class TimelineEvent(models.Model):
    """One line of an incident's history: who did what, when, from where."""

    # Indexed by timeline_incident_created (incident, created_at).
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Incident page: the timeline of one incident in order.
            models.Index(fields=["incident", "created_at"], name="timeline_incident_created"),
            # Incident page, escalation panel (escalation/plan.py): the few reopened and escalated
            # events among an incident's thousands, without reading the others.
            models.Index(fields=["incident", "created_at"], condition=Q(kind__in=["reopened", "escalated"]),
                         name="timeline_incident_escalation"),
            # The alerts panel's version (alertmanager selectors): an incident's newest event by id.
            models.Index(fields=["incident", "-id"], name="timeline_incident_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.incident_id}"


class ApiToken(models.Model):
    """A user's API token for scripts. Only its SHA-256 and a short prefix are stored; the token
    itself is shown once, when ``manage.py create_api_token`` makes it (docs/security.md)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
