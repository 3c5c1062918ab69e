"""The "email" message channel as the outbox sees it: the shared default wording, subjects
included (the template editor's subject field is for email)."""

from __future__ import annotations

from incidents.notifications.channels import MessageChannel
from incidents.notifications.defaults import DEFAULTS

from .sender import EmailSender

channel = MessageChannel(
    name="email",
    label="Email",
    sender=EmailSender(),
    # Alert churn (alerts joining or resolving) stays on the incident page and in chat.
    events=frozenset(DEFAULTS) - {"alerts"},
    order=30,
)
