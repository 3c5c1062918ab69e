"""The alerts table's rows, worked out in Python before the template prints them.

The table shows 50 alerts, each with its label chips, annotations, three times in three forms and
its links. Written as template tags and filters that came to about 35 template nodes per row, most
of the alerts panel's render time; here each row is one object of ready strings (the chips and links
already escaped into HTML) and the template prints about a dozen values per row."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from opsportal.lib import stamps

from .models import Alert, AlertStatus

_STATUS_LABELS = dict(AlertStatus.choices)


@dataclass(frozen=True)
class AlertRow:
    status: str
    status_label: str
    chips: SafeString
    summary: str
    description: str
    started_iso: str
    started_title: str
    started_text: str
    ended_iso: str  # empty unless the alert resolved and says when
    ended_title: str
    ended_text: str
    received: int
    seen_title: str
    last_seen_iso: str
    last_seen_ago: str
    links: SafeString  # empty when the sender gave no http(s) link

    @classmethod
    def of(cls, alert: Alert) -> AlertRow:
        ended = alert.ends_at if alert.ends_at and alert.status == AlertStatus.RESOLVED else None
        annotations: dict[str, Any] = alert.annotations or {}
        return cls(
            status=alert.status,
            status_label=_STATUS_LABELS.get(alert.status, alert.status),
            chips=chips(alert.labels),
            summary=str(annotations.get("summary") or ""),
            description=str(annotations.get("description") or ""),
            started_iso=stamps.iso(alert.starts_at),
            started_title=stamps.full(alert.starts_at),
            started_text=stamps.short(alert.starts_at),
            ended_iso=stamps.iso(ended),
            ended_title=stamps.full(ended),
            ended_text=stamps.short(ended),
            received=alert.times_received,
            seen_title=f"first {stamps.full(alert.first_seen_at)}, last {stamps.full(alert.last_seen_at)}",
            last_seen_iso=stamps.iso(alert.last_seen_at),
            last_seen_ago=stamps.ago(alert.last_seen_at),
            links=links(alert.web_links),
        )


# Label names and values are plain JSON text, so the standard library's escape (what Django's
# ``escape`` calls, without its lazy-string wrapper) is all they need, and the fastest.


def chips(labels: dict[str, Any] | None) -> SafeString:
    """Label chips, alertname first (it names the alert), then by name; every name and value escaped."""
    items = sorted((labels or {}).items(), key=lambda kv: (kv[0] != "alertname", kv[0]))
    return mark_safe("".join(  # noqa: S308 - every piece escaped here
        f'<li class="chip"><span class="chip-k">{escape(str(k))}</span><span class="chip-v">{escape(str(v))}</span></li>'
        for k, v in items
    ))


def links(web_links: list[tuple[str, str]]) -> SafeString:
    """The sender's links, (label, url) pairs that ``Alert.web_links`` checked are http(s)."""
    return mark_safe("<br>".join(  # noqa: S308 - every piece escaped here
        f'<a href="{escape(url)}" rel="noopener noreferrer" target="_blank">{escape(label)} ↗</a>'
        for label, url in web_links
    ))
