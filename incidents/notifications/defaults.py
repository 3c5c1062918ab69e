"""The built-in wording of every message, modelled on the incident and resolution messages of the
operations manuals on-call teams already use ("INCIDENT ALERT - P1 / Service / Issue / Impact /
ETA / Incident Commander / Status Page"; "RESOLVED - P1 Incident / Duration / Root Cause / Actions
Taken"). Admins replace any of them in the browser; a channel may ship its own.

Each entry is (subject, body), Jinja2 over the context of ``rendering.message_context``.
"""

from __future__ import annotations

_HEADER = "{{ incident.severity }} · #{{ incident.id }} {{ incident.title }}"

DEFAULTS: dict[str, tuple[str, str]] = {
    "opened": (
        "INCIDENT ALERT - " + _HEADER,
        """🚨 INCIDENT ALERT - {{ incident.severity }} {{ incident.severity_label }}
Service: {{ incident.service or "not set" }}
Issue: {{ incident.title }}
Impact: {{ incident.labels.impact | default(incident.description or "Being assessed", true) }}
ETA: Investigating
Incident Commander: {{ incident.commander or "not assigned" }}
Acknowledge by: {{ incident.response_due_at_text }} · Resolve by: {{ incident.resolve_due_at_text }}
{% if status_page_url %}Status Page: {{ status_page_url }}
{% endif %}{{ incident.url }}""",
    ),
    "acknowledged": (
        "Acknowledged - " + _HEADER,
        "👀 Acknowledged by {{ event.actor or event.source }} after {{ incident.time_to_acknowledge }}.",
    ),
    "mitigated": (
        "Mitigated - " + _HEADER,
        "🩹 Mitigated by {{ event.actor or event.source }}: {{ event.message }}",
    ),
    "assigned": (
        "Commander - " + _HEADER,
        "🧭 Incident Commander: {{ incident.commander or 'not assigned' }} (set by {{ event.actor or event.source }}).",
    ),
    "severity_changed": (
        "Severity {{ event.data.to }} - " + _HEADER,
        "📈 Severity {{ event.data.from }} → {{ event.data.to }} (by {{ event.actor or event.source }}). "
        "New deadlines: acknowledge by {{ incident.response_due_at_text }}, resolve by "
        "{{ incident.resolve_due_at_text }}.",
    ),
    "note": (
        "Update - " + _HEADER,
        "📝 {{ event.actor or event.source }}: {{ event.message }}",
    ),
    "sla_breached": (
        "SLA BREACHED - " + _HEADER,
        "⏰ {{ event.message }}",
    ),
    "alerts": (
        "Alerts - " + _HEADER,
        "🔔 {{ event.message }}",
    ),
    "resolved": (
        "RESOLVED - " + _HEADER,
        """✅ RESOLVED - {{ incident.severity }} Incident
Service: {{ incident.service or "not set" }}
Issue: {{ incident.title }} - RESOLVED
Duration: {{ incident.duration }}
Root Cause: {{ incident.labels.root_cause | default("see the incident timeline", true) }}
Actions Taken: {{ event.message }}
{{ incident.url }}""",
    ),
    "escalated": (
        "ESCALATED - " + _HEADER,
        """📣 {% if event.data.page %}Paged{% else %}Escalation level {{ event.data.level }}{% endif %} - {{ incident.severity }} {{ incident.severity_label }}, not acknowledged
Issue: {{ incident.title }}
Service: {{ incident.service or "not set" }}
{{ event.message }}
Acknowledge: {{ incident.url }}""",
    ),
    "reopened": (
        "REOPENED - " + _HEADER,
        "🔁 Reopened by {{ event.actor or event.source }}: {{ event.message }}",
    ),
    "runbook": (
        "Runbook - " + _HEADER,
        "📒 {{ event.message }}",
    ),
    "closed": (
        "Closed - " + _HEADER,
        "🗄️ Closed by {{ event.actor or event.source }}.",
    ),
}

# What the deliveries panel and the template editor call each event.
EVENT_LABELS: dict[str, str] = {
    "opened": "Incident opened",
    "acknowledged": "Acknowledged",
    "mitigated": "Mitigated",
    "assigned": "Commander changed",
    "severity_changed": "Severity changed",
    "note": "Note added",
    "sla_breached": "SLA breached",
    "alerts": "Alerts joined or resolved",
    "resolved": "Resolved",
    "escalated": "Escalated (to the level's targets; on Slack also in the incident's thread)",
    "reopened": "Reopened",
    "closed": "Closed",
    "runbook": "Runbook steps",
}
