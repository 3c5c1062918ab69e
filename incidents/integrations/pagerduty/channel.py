"""The "pagerduty" message channel as the outbox sees it.

Its messages are one line each: PagerDuty shows a trigger's text as the alert's title (the
``summary``), and reads it out on phone calls. Admins reword them like any other template.
"""

from __future__ import annotations

from incidents.notifications.channels import MessageChannel

from . import keys
from .events import ACTIONS
from .sender import PagerDutySender

# The service, unless the title already names it in brackets (Alertmanager titles often do).
_WHERE = ('{% if incident.service and "(" ~ incident.service ~ ")" not in incident.title %} ({{ incident.service }})'
          '{% endif %} - Opsportal #{{ incident.id }}')

TEMPLATES: dict[str, tuple[str, str]] = {
    "opened": ("", "{{ incident.severity }} {{ incident.title }}" + _WHERE),
    "reopened": ("", "REOPENED {{ incident.severity }} {{ incident.title }}" + _WHERE),
    "severity_changed": ("", "{{ event.data.to }} (was {{ event.data.from }}) {{ incident.title }}" + _WHERE),
    "acknowledged": ("", "Acknowledged by {{ event.actor or event.source }}" + _WHERE),
    "resolved": ("", "Resolved by {{ event.actor or event.source }}: {{ event.message }}" + _WHERE),
}

channel = MessageChannel(
    name="pagerduty",
    label="PagerDuty",
    sender=PagerDutySender(),
    events=frozenset(ACTIONS),
    templates=TEMPLATES,
    order=20,
    # Pages show a routing key typed into a route by its first characters only.
    display_target=keys.masked,
)
