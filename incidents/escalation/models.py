"""Escalation policies: ordered levels, each paging its targets when nobody has acknowledged
(docs/escalation.md). An incident keeps a snapshot of its policy (``snapshot``), so these rows
describe new incidents only."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from . import snapshot


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    repeat = models.PositiveSmallIntegerField(
        default=0, help_text="Times the whole policy runs again from level 1 when nobody acknowledges.")
    escalate_on_sla_breach = models.BooleanField(
        default=False, help_text="A breached response SLA pages the next level at once.")
    is_default = models.BooleanField(
        default=False, help_text="For incidents whose service (or integration) names no policy.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_policy"),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    """One level: after ``delay_seconds`` (counted from the previous level) page ``targets``."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    order = models.PositiveSmallIntegerField(help_text="1 is paged first.")
    delay_seconds = models.PositiveIntegerField(default=0, help_text="Seconds after the previous level.")
    # [{"type": "user"|"schedule"|"slack_channel"|"pagerduty"|"email", "value": ...}]
    targets = models.JSONField(default=list)

    class Meta:
        ordering = ["policy", "order", "id"]

    def __str__(self) -> str:
        return f"{self.policy} level {self.order}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """The targets' shape is checked on every save (forms, admin, API, shell alike); whether a
        user or schedule exists is the services' check (``policies``)."""
        snapshot.parse_delay(self.delay_seconds, "delay_seconds")
        self.targets = [t.to_json() for t in snapshot.parse_targets(self.targets, "targets")]
        super().save(*args, **kwargs)
