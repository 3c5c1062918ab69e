"""Alertmanager integrations, the alerts they deliver, maintenance windows and silences."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from incidents.models import Incident, Service, Severity
from opsportal.lib.validators import ServiceURLValidator

DEFAULT_SEVERITY_MAPPING = {
    "critical": "P1",
    "error": "P2",
    "high": "P2",
    "warning": "P3",
    "info": "P4",
    "none": "P4",
}
DEFAULT_TITLE_TEMPLATE = (
    "{{ commonAnnotations.summary or commonLabels.alertname or groupLabels.alertname or 'Alert' }}"
    "{% if commonLabels.service %} ({{ commonLabels.service }}){% endif %}"
)
DEFAULT_DESCRIPTION_TEMPLATE = "{{ commonAnnotations.description or '' }}"


class Integration(models.Model):
    """One Alertmanager receiver. Its bearer token selects it; only the token's hash is stored."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Alertmanager"

    class Grouping(models.TextChoices):
        GROUP_KEY = "group_key", "Alertmanager groupKey"
        LABELS = "labels", "Listed labels"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ALERTMANAGER)
    enabled = models.BooleanField(default=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=12, editable=False, help_text="First characters, to tell tokens apart.")
    token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    default_service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    escalation_policy = models.ForeignKey(
        "escalation.EscalationPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who is paged for incidents this integration opens; empty: the service's, else the default.",
    )
    grouping = models.CharField(max_length=16, choices=Grouping.choices, default=Grouping.GROUP_KEY)
    group_by_labels = models.JSONField(default=list, blank=True, help_text='e.g. ["alertname", "service"]')
    severity_label = models.CharField(max_length=100, default="severity")
    severity_mapping = models.JSONField(default=dict, blank=True, help_text="label value -> severity name")
    default_severity = models.ForeignKey(
        Severity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="For label values the mapping does not name; empty means the least severe.",
    )
    title_template = models.TextField(default=DEFAULT_TITLE_TEMPLATE)
    description_template = models.TextField(default=DEFAULT_DESCRIPTION_TEMPLATE, blank=True)
    auto_resolve = models.BooleanField(default=True, help_text="Resolve the incident when all its alerts resolved.")
    reopen_window = models.DurationField(
        default=timedelta(hours=1), help_text="A group firing again within this time reopens its incident."
    )
    inactivity_timeout = models.DurationField(
        null=True, blank=True, help_text="Auto-resolve when no alert was seen for this long (senders that never resolve)."
    )
    alertmanager_url = models.CharField(
        max_length=300, blank=True, validators=[ServiceURLValidator()],
        help_text="Alertmanager base URL, for silences, e.g. http://alertmanager:9093.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """One Alertmanager alert (fingerprint) on one incident; or, with no incident, one that a
    maintenance window held back."""

    # Indexed by the indexes below (alert_integration, alert_incident_status, alert_held_by_window):
    # an index of their own only cost every alert written.
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts", db_index=False)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts",
                                 db_index=False)
    maintenance_window = models.ForeignKey(
        "MaintenanceWindow", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts", db_index=False
    )
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    generator_url = models.TextField(blank=True)
    # Grafana Alerting's per-alert links: {"silence"|"dashboard"|"panel"|"image": url}, as sent.
    links = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    times_received = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-status", "starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "fingerprint"], condition=Q(incident__isnull=False), name="alert_once_per_incident"
            ),
            models.UniqueConstraint(
                fields=["integration", "fingerprint"],
                condition=Q(incident__isnull=True),
                name="suppressed_alert_once_per_integration",
            ),
        ]
        # No index holds last_seen_at or times_received: every repeat of an alert moves them, and a
        # change to an indexed column makes PostgreSQL write a new entry in every index of the table.
        # Without, a repeat is a HOT update (the new row version on the same page, no index touched;
        # the table keeps room for it, FILLFACTOR in migration 0010): a storm's repeats cost the
        # database a third of the time (docs/architecture.md section 10).
        indexes = [
            # Inactivity sweep, "all resolved?" checks and the alerts panel's counts by state (once
            # per version, selectors.alert_counts_for_incident): an incident's alerts, by status.
            models.Index(fields=["incident", "status"], name="alert_incident_status"),
            # The alerts panel's page: an incident's alerts newest first, LIMIT 50 OFFSET n
            # (selectors.alert_page_for_incident), scanned backwards.
            models.Index(fields=["incident", "starts_at", "id"], name="alert_incident_started"),
            # An integration's alerts (its deletion, the inactivity sweep's join).
            models.Index(fields=["integration"], name="alert_integration"),
            # Alerts a maintenance window holds (the window's deletion); most alerts have none.
            models.Index(fields=["maintenance_window"], name="alert_held_by_window",
                         condition=Q(maintenance_window__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.labels.get('alertname', 'alert')} {self.fingerprint}"

    @property
    def web_links(self) -> list[tuple[str, str]]:
        """(label, url) for the links the sender gave that are http(s), source first. Links are
        stored as sent; only these may become an href (never a javascript: or data: URL)."""
        names = ("dashboard", "panel", "image", "silence")
        candidates = [("source", self.generator_url), *((name, str((self.links or {}).get(name) or "")) for name in names)]
        return [(label, url.strip()) for label, url in candidates if url.strip().lower().startswith(("http://", "https://"))]


class WebhookDelivery(models.Model):
    """A raw webhook body as received, kept for debugging for a bounded time."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="deliveries")
    # Indexed by delivery_incident_received (incident, -received_at).
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    received_at = models.DateTimeField(db_index=True)
    group_key = models.TextField(blank=True)
    status = models.CharField(max_length=10, blank=True)
    alert_count = models.PositiveIntegerField(default=0)
    truncated_alerts = models.PositiveIntegerField(default=0)
    # The post's JSON text exactly as received. Text, not jsonb: PostgreSQL parsing a storm post
    # (about 47 KB) into jsonb and compressing it with pglz cost 0.85 ms of its CPU per post; text
    # compressed with lz4 (migration 0009) costs 0.05 ms (docs/security.md, "Raw webhook deliveries").
    body = models.TextField()

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["incident", "-received_at"], name="delivery_incident_received"),
            # The alerts panel's version: an incident's newest delivery by id, one index entry
            # (ids follow commit order per incident: deliveries are written under its row lock).
            models.Index(fields=["incident", "-id"], name="delivery_incident_newest"),
        ]


class MaintenanceWindow(models.Model):
    """Scheduled ahead: while active, matching alerts are stored and shown but open no incident."""

    name = models.CharField(max_length=100)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.CASCADE, related_name="maintenance_windows",
        help_text="Empty: every integration.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # [{"name": "service", "value": "checkout", "is_regex": false, "is_equal": true}]; empty = all alerts.
    matchers = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start")
        ]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="maintenance_active")]

    def __str__(self) -> str:
        return self.name


class Silence(models.Model):
    """An Alertmanager silence created from an incident page."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="silences")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="silences")
    silence_id = models.CharField(max_length=64, help_text="Alertmanager's id.")
    matchers = models.JSONField(default=list)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    comment = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # Creating, expiring or refreshing one makes the server call Alertmanager (silences.py).
        permissions = [("manage_silences", "Can create and expire Alertmanager silences")]
