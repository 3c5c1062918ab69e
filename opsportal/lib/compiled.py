"""ORM queries compiled once per process and run again with other values.

Compiling a queryset costs Django about half a millisecond of CPU, more than PostgreSQL needs to
answer the small indexed queries every webhook post runs; only the values change between posts.
``CompiledQuery`` keeps the SQL the ORM made for a query built around a marker value, and runs it
with the real value on a plain cursor, building the instances with the ORM's own converters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connection, models, transaction

M = TypeVar("M", bound=models.Model)


class CompiledQuery(Generic[M]):
    """``build(marker)`` returns a plain queryset of ``model`` (every column, in the model's order;
    annotations may follow and are not kept) whose parameters include ``marker`` once, where
    :meth:`objects` puts its value."""

    def __init__(self, model: type[M], build: Callable[[Any], models.QuerySet[M]], marker: Any) -> None:
        self.model, self.build, self.marker = model, build, marker
        self._sql: dict[str, tuple[str, tuple[Any, ...], int]] = {}  # per database vendor

    def objects(self, value: Any) -> list[M]:
        sql, params, at = self._sql.get(connection.vendor) or self._compile()
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params[:at], value, *params[at + 1:]])
            rows = cursor.fetchall()
        fields: list[Any] = list(self.model._meta.concrete_fields)  # django-stubs types them as the base Field
        names = [f.attname for f in fields]
        converters = [(i, convert, f.cached_col) for i, f in enumerate(fields)
                      for convert in (*connection.ops.get_db_converters(f.cached_col), *f.get_db_converters(connection))]
        found = []
        for row in rows:
            values = list(row[:len(fields)])
            for i, convert, column in converters:
                values[i] = convert(values[i], column, connection)
            found.append(self.model.from_db(connection.alias, names, values))
        return found

    def _compile(self) -> tuple[str, tuple[Any, ...], int]:
        with transaction.atomic(savepoint=False):  # select_for_update compiles only inside a transaction
            sql, params = self.build(self.marker).query.sql_with_params()
        compiled = (sql, tuple(params), list(params).index(self.marker))
        self._sql[connection.vendor] = compiled
        return compiled
