"""Default severities, from the operations manuals our users run (docs/architecture.md section 2):
P1 15 min response / 1 h resolution, P2 1 h / 4 h, P3 4 h / 24 h, P4 24 h / 1 week."""

from datetime import timedelta

from .models import Severity

SEVERITIES = [
    {"name": "P1", "label": "Critical", "rank": 1, "colour": "#dc2626",
     "description": "Complete service outage, data loss or security breach.",
     "response_target": timedelta(minutes=15), "resolution_target": timedelta(hours=1)},
    {"name": "P2", "label": "High", "rank": 2, "colour": "#ea580c",
     "description": "Major feature broken, significant user impact.",
     "response_target": timedelta(hours=1), "resolution_target": timedelta(hours=4)},
    {"name": "P3", "label": "Medium", "rank": 3, "colour": "#ca8a04",
     "description": "Minor feature issue, workaround available.",
     "response_target": timedelta(hours=4), "resolution_target": timedelta(hours=24)},
    {"name": "P4", "label": "Low", "rank": 4, "colour": "#2563eb",
     "description": "Cosmetic issue, no user impact.",
     "response_target": timedelta(hours=24), "resolution_target": timedelta(weeks=1)},
]


def ensure_severities() -> None:
    """Create the default severities that are missing (after a test flush, or on an empty database)."""
    for row in SEVERITIES:
        Severity.objects.get_or_create(name=row["name"], defaults=row)
