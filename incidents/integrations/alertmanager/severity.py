"""Incident severity from an alert's severity label, through the integration's mapping."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from incidents.defaults import ensure_severities
from incidents.models import Severity
from opsportal.lib import memo
from opsportal.lib.exceptions import ApplicationError

from .models import DEFAULT_SEVERITY_MAPPING, Integration


def severity_mapping(integration: Integration) -> dict[str, str]:
    """Label value (lower case) -> severity name; the integration's own mapping wins over the default."""
    mapping = {k.lower(): v for k, v in DEFAULT_SEVERITY_MAPPING.items()}
    mapping.update({str(k).lower(): str(v) for k, v in (integration.severity_mapping or {}).items()})
    return mapping


class SeverityPicker:
    """Maps label sets to Severity rows with one query per webhook (the table has a handful of rows)."""

    def __init__(self, integration: Integration):
        self.integration = integration
        self.mapping = severity_mapping(integration)
        rows = memo.config("incidents.severities", lambda: list(Severity.objects.all()))
        if not rows:  # an empty table (a fresh or flushed database): alerts must still open incidents
            ensure_severities()
            rows = list(Severity.objects.all())
        self.by_name = {s.name: s for s in rows}
        least = max(self.by_name.values(), key=lambda s: s.rank, default=None)
        default = None
        if integration.default_severity_id is not None:
            default = next((s for s in self.by_name.values() if s.pk == integration.default_severity_id), None)
        self.fallback = default or least

    def for_labels(self, labels: dict[str, str]) -> Severity:
        value = labels.get(self.integration.severity_label or "severity", "").strip().lower()
        name = self.mapping.get(value)
        found = self.by_name.get(name) if name else None
        if found is None:
            if self.fallback is None:
                raise ApplicationError("No severities are defined; add one in the admin.", code="misconfigured")
            return self.fallback
        return found

    def most_severe(self, label_sets: Iterable[dict[str, str]]) -> Severity:
        """The most urgent severity any of the label sets maps to (rank 1 wins)."""
        best: Severity | None = None
        for labels in label_sets:
            severity = self.for_labels(labels)
            if best is None or severity.rank < best.rank:
                best = severity
        if best is None:
            return self.for_labels({})
        return best


def severity_mapping_validate(mapping: Any) -> None:
    """A mapping is an object of label value -> existing severity name."""
    if not isinstance(mapping, dict):
        raise ApplicationError(
            'The severity mapping must be an object like {"critical": "P1"}.', code="invalid",
            extra={"field": "severity_mapping"},
        )
    names = set(Severity.objects.values_list("name", flat=True))
    for value, name in mapping.items():
        if not isinstance(name, str) or name not in names:
            raise ApplicationError(
                f'Severity mapping "{value}" -> {name!r}: no severity has that name '
                f"(known: {', '.join(sorted(names))}).",
                code="invalid",
                extra={"field": "severity_mapping"},
            )
