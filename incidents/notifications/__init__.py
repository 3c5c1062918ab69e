"""Notifications: the outbox, editable message templates and routing (docs/architecture.md section 4).

A core subpackage with its own Django app (label ``notifications``). Channels (Slack, PagerDuty,
email) are integrations that register a sender with ``incidents.registry``; this package knows
none of them by name.
"""
