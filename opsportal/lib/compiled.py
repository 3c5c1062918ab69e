"""ORM queries compiled once per process and run again with other values.

Compiling a queryset costs Django about half a millisecond of CPU, more than PostgreSQL needs to
answer the small indexed queries every webhook post and every outbox flush runs; only the values
change between runs. ``CompiledQuery`` keeps the SQL the ORM made for a query built around a marker
value, and runs it with the real value on a plain cursor, building the instances (and those
``select_related`` follows) with the ORM's own converters and populators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

from django.db import connection, models, transaction
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in django-stubs

M = TypeVar("M", bound=models.Model)


class _Compiled(NamedTuple):
    sql: str
    params: tuple[Any, ...]
    at: int  # where the marker's value goes in params
    compiler: Any  # the SQLCompiler that made sql: its select list, converters and related klass_info


class CompiledQuery(Generic[M]):
    """``build(marker)`` returns a queryset of ``model`` (``select_related`` is followed;
    annotations are not kept) whose parameters include ``marker`` once, where :meth:`objects`
    puts its value."""

    def __init__(self, model: type[M], build: Callable[[Any], models.QuerySet[M]], marker: Any) -> None:
        self.model, self.build, self.marker = model, build, marker
        self._compiled: dict[str, _Compiled] = {}  # per database vendor

    def objects(self, value: Any) -> list[M]:
        compiled = self._compiled.get(connection.vendor) or self._compile()
        params = [*compiled.params[:compiled.at], value, *compiled.params[compiled.at + 1:]]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        compiler = compiled.compiler
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, connection.alias)
        found = []
        for row in compiler.results_iter([rows]):
            obj = self.model.from_db(connection.alias, names, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def _compile(self) -> _Compiled:
        with transaction.atomic(savepoint=False):  # select_for_update compiles only inside a transaction
            compiler = self.build(self.marker).query.get_compiler(using=connection.alias)
            sql, params = compiler.as_sql()
        compiled = _Compiled(sql, tuple(params), list(params).index(self.marker), compiler)
        self._compiled[connection.vendor] = compiled
        return compiled
