"""Mounted at ``hooks/slack/`` by opsportal/urls.py: the URLs of the Slack app manifest."""

from __future__ import annotations

from django.urls import path

from .views import slack_actions, slack_commands

app_name = "slack"
urlpatterns = [
    path("actions", slack_actions, name="actions"),
    path("commands", slack_commands, name="commands"),
]
