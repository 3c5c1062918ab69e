"""Prometheus counters for Alertmanager ingestion (docs/architecture.md section 9).

Labelled by integration name (a handful per installation), never by group or fingerprint, which
would explode the series count. Incident counters move only after the transaction commits.
"""

from __future__ import annotations

from prometheus_client import Counter

WEBHOOKS = Counter(
    "opsportal_alertmanager_webhooks_total",
    "Alertmanager webhook posts answered, by integration and outcome",
    ["integration", "outcome"],
)
ALERTS = Counter(
    "opsportal_alertmanager_alerts_total",
    "Alerts received in accepted Alertmanager webhook posts",
    ["integration", "status"],
)
INCIDENTS = Counter(
    "opsportal_alertmanager_incidents_total",
    "Incidents opened, reopened or resolved by Alertmanager ingestion",
    ["integration", "action"],
)

# Outcome label values, one per kind of answer.
ACCEPTED = "accepted"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
INVALID = "invalid"
UNSUPPORTED_MEDIA = "unsupported_media_type"
TOO_LARGE = "too_large"
UNAVAILABLE = "unavailable"
UNKNOWN_INTEGRATION = "-"
