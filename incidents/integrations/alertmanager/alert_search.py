"""The alerts panel's search box: what a responder types, turned into a database filter.

``service=checkout`` keeps the alerts whose label ``service`` is exactly ``checkout``; a word without
``=`` (``web-1``) keeps the alerts with any label value containing it, ignoring case. Several terms
must all match; a value with spaces is quoted (``summary="disk full"``). The filter runs in the
database (a JSON key lookup, and ``jsonb_each_text`` / ``json_each`` for free text), so a search
over an incident with 20,000 alerts reads only the page it shows.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from opsportal.lib.exceptions import ApplicationError

from .models import Alert

MAX_CHARS = 200
MAX_TERMS = 8
SEARCH_FIELD = "alerts_q"


@dataclass(frozen=True)
class Term:
    """``label`` is None for free text over every label value."""

    label: str | None
    value: str


def parse_search(text: str) -> tuple[Term, ...]:
    """Raises ApplicationError (400, naming ``alerts_q``) for input that cannot mean a search."""
    text = text.strip()
    if len(text) > MAX_CHARS:
        raise _invalid(f"Search is {len(text)} characters long; at most {MAX_CHARS}.")
    try:
        words = shlex.split(text)
    except ValueError:
        raise _invalid("Search has an unbalanced quote.") from None
    if len(words) > MAX_TERMS:
        raise _invalid(f"Search has {len(words)} terms; at most {MAX_TERMS}.")
    terms = []
    for word in words:
        label, equals, value = word.partition("=")
        if not equals:
            terms.append(Term(None, word))
        elif not label.strip():
            raise _invalid(f"Search term {word!r} needs a label name before '=' (e.g. service=checkout).")
        else:
            terms.append(Term(label.strip(), value))
    return tuple(terms)


def filter_alerts(qs: QuerySet[Alert], terms: tuple[Term, ...]) -> QuerySet[Alert]:
    for n, term in enumerate(terms):
        if term.label is not None:
            # PostgreSQL: ("labels" ->> 'service') = 'checkout'; SQLite: JSON_EXTRACT(...) = 'checkout'.
            # (Cast: without it Django compares JSON values, and SQLite would parse 'checkout' as JSON.)
            value = Cast(KeyTextTransform(term.label, "labels"), TextField())
            qs = qs.alias(**{f"_label{n}": value}).filter(
                **{f"_label{n}": term.value}
            )
        else:
            qs = qs.alias(**{f"_text{n}": _any_label_value_contains(term.value)}).filter(**{f"_text{n}": True})
    return qs


def _any_label_value_contains(text: str) -> RawSQL:
    """EXISTS over the row's label values; ``%`` and ``_`` typed by the user match themselves."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    column = f"{connection.ops.quote_name(Alert._meta.db_table)}.{connection.ops.quote_name('labels')}"
    if connection.vendor == "postgresql":
        sql = f"EXISTS (SELECT 1 FROM jsonb_each_text({column}) AS kv WHERE kv.value ILIKE %s ESCAPE '\\')"
    else:  # SQLite: LIKE ignores ASCII case
        sql = f"EXISTS (SELECT 1 FROM json_each({column}) AS kv WHERE kv.value LIKE %s ESCAPE '\\')"
    return RawSQL(sql, [pattern], output_field=BooleanField())


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", extra={"field": SEARCH_FIELD})
