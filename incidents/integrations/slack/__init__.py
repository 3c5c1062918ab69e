"""Slack: incident messages (a root message per incident, updates in its thread), buttons and the
``/incident`` command (docs/slack.md)."""
