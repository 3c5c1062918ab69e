"""Events API v2 bodies from our incidents (docs/pagerduty.md, "What PagerDuty receives").

One dedup key per incident (its ``key``), so trigger, acknowledge and resolve all land on the same
PagerDuty alert, and a reopen is a new trigger with that key, which PagerDuty opens as a new alert
after a resolve. PagerDuty's limits are kept here: a summary of at most 1024 characters, one of its
four severities, a body well under 512 KB.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

SUMMARY_MAX = 1024
SEVERITIES = ("critical", "error", "warning", "info")
# By rank when a severity is missing from PAGERDUTY_SEVERITY_MAP (a severity added in the admin).
BY_RANK = {1: "critical", 2: "error", 3: "warning"}
DESCRIPTION_MAX = 2000

# Our timeline kinds -> the Events API action that announces them.
ACTIONS = {
    "opened": "trigger",
    "reopened": "trigger",
    # A trigger with the same dedup key on an open alert is deduplicated into it: PagerDuty records
    # the new severity in the alert's log without paging again (and never while acknowledged).
    "severity_changed": "trigger",
    "acknowledged": "acknowledge",
    "resolved": "resolve",
    # An escalation level that names a PagerDuty service (or a user's PagerDuty contact) pages there.
    "escalated": "trigger",
}


def pd_severity(incident: dict[str, Any]) -> str:
    mapped = settings.PAGERDUTY_SEVERITY_MAP.get(incident["severity"])
    if mapped in SEVERITIES:
        return str(mapped)
    return BY_RANK.get(int(incident["severity_rank"]), "info")


def summary(text: str) -> str:
    """One line (PagerDuty shows it as the alert's title and reads it out on phone calls), cut to
    PagerDuty's 1024 characters with an ellipsis."""
    line = re.sub(r"\s+", " ", text).strip() or "Incident"
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1] + "…"


def custom_details(incident: dict[str, Any]) -> dict[str, Any]:
    description = incident["description"]
    if len(description) > DESCRIPTION_MAX:
        description = description[: DESCRIPTION_MAX - 1] + "…"
    return {
        "incident": f"#{incident['id']} {incident['title']}",
        "status": incident["status"],
        "severity": f"{incident['severity']} {incident['severity_label']}",
        "service": incident["service"] or None,
        "commander": incident["commander"] or None,
        "acknowledge_by": incident["response_due_at"],
        "resolve_by": incident["resolve_due_at"],
        "labels": incident["labels"],
        "description": description or None,
    }


def trigger_body(incident: dict[str, Any], text: str, *, at: str) -> dict[str, Any]:
    """The properties of a trigger besides ``event_action``, ``dedup_key`` and ``routing_key``."""
    source = incident["service"] or "opsportal"
    payload: dict[str, Any] = {
        "summary": summary(text),
        "source": source,
        "severity": pd_severity(incident),
        "timestamp": at,
        "class": incident["severity"],
        "custom_details": custom_details(incident),
    }
    if incident["service"]:
        payload["component"] = incident["service"]
    return {
        "payload": payload,
        "links": [{"href": incident["url"], "text": f"Opsportal incident #{incident['id']}"}],
        "client": "Opsportal",
        "client_url": incident["url"],
    }
