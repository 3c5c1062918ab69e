"""What Slack needs remembered: who a Slack user is here, each Slack channel's send pace, and the
people to invite into an incident's own channel."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from incidents.models import Incident


class SlackUserLink(models.Model):
    """A Slack user acting as an Opsportal user (buttons, ``/incident``). Made once from the email
    of the Slack profile matching an Opsportal user's email; an admin may add one by hand."""

    team_id = models.CharField(max_length=32)
    slack_user_id = models.CharField(max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slack_links")
    email = models.EmailField(blank=True, help_text="The Slack profile's email when the link was made.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team_id", "slack_user_id"], name="one_link_per_slack_user"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}/{self.slack_user_id} → {self.user}"


class SlackChannelPace(models.Model):
    """When the next message may be posted to a Slack channel (about one a second, shared by every
    incident posting there): the theoretical arrival time of a GCRA rate limiter, and who waits."""

    channel = models.CharField(max_length=255, primary_key=True)
    next_at = models.DateTimeField()
    # The conversations waiting for a slot: [slot (ISO 8601), conversation id, severity rank] each,
    # so that a more severe incident is served first (pace.py).
    queue = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"{self.channel} next at {self.next_at}"


class SlackInvite(models.Model):
    """Someone to invite into an incident's own channel: recorded at once (escalation calls
    ``slack_invite`` inside its transaction), invited when the channel exists."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    invited_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "user"], name="one_invite_per_user")]

    def __str__(self) -> str:
        return f"invite {self.user} to #{self.incident_id}"
