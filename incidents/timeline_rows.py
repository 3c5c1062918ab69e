"""The timeline's rows, worked out in Python before the template prints them.

The incident page shows 50 events; per event the template used to format one time three ways with
the ``date`` filter and look up two choice labels through ``get_FOO_display`` (which rebuilds the
choices dict on every call). Here each row is one object of ready strings."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines

from opsportal.lib import stamps

from .models import EventKind, Source, TimelineEvent

_KIND_LABELS = dict(EventKind.choices)
_SOURCE_LABELS = dict(Source.choices)


@dataclass(frozen=True)
class TimelineRow:
    pk: int
    kind: str
    kind_label: str
    actor: str  # username, or empty when a system did it
    source_label: str
    message: SafeString  # escaped, line breaks as <br>
    iso: str
    title: str
    text: str

    @classmethod
    def of(cls, event: TimelineEvent) -> TimelineRow:
        return cls(
            pk=event.pk,
            kind=event.kind,
            kind_label=_KIND_LABELS.get(event.kind, event.kind),
            actor=event.actor.get_username() if event.actor_id and event.actor else "",
            source_label=_SOURCE_LABELS.get(event.source, event.source),
            # What the linebreaksbr filter gives, for plain text.
            message=mark_safe(escape(normalize_newlines(event.message)).replace("\n", "<br>")),  # noqa: S308
            iso=stamps.iso(event.created_at),
            title=stamps.full(event.created_at),
            text=stamps.short(event.created_at),
        )
