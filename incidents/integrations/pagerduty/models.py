"""What the v3 webhook remembers: the ids of the events it has seen, so a redelivered webhook
(PagerDuty delivers at least once) changes nothing twice."""

from __future__ import annotations

from django.db import models


class WebhookEvent(models.Model):
    """One v3 webhook event we have handled. Kept for PAGERDUTY_WEBHOOK_RETENTION, longer than
    PagerDuty keeps retrying a delivery (about 20 minutes)."""

    event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64)
    incident_key = models.CharField(max_length=255, blank=True)
    # What it did: "acknowledged", "resolved", or why it changed nothing.
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
