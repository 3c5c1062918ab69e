"""ORM queries compiled once per process and run again with other values.

Compiling a queryset costs Django about half a millisecond of CPU, more than PostgreSQL needs to
answer the small indexed queries every webhook post and every outbox flush runs; only the values
change between runs. ``CompiledQuery`` keeps the SQL the ORM made for a query built around a marker
value, and runs it with the real value on a plain cursor, building the instances (and those
``select_related`` follows) with the ORM's own converters and populators, which are made once too:
working them out again on every run was a quarter of the CPU of a flush's 60-column conversation
query.
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
    compiler: Any  # the SQLCompiler that made sql
    converters: dict[int, Any]  # column -> the ORM's converters for it (from_db_value and the backend's)
    names: list[str]  # attnames of the model's own columns, in the row
    start: int  # where they are in the row
    populators: list[Any]  # what fills in the select_related instances from the same row


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
            rows: Any = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        start, end, names = compiled.start, compiled.start + len(compiled.names), compiled.names
        found = []
        for row in rows:
            obj = self.model.from_db(connection.alias, names, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def _compile(self) -> _Compiled:
        with transaction.atomic(savepoint=False):  # select_for_update compiles only inside a transaction
            compiler = self.build(self.marker).query.get_compiler(using=connection.alias)
            sql, params = compiler.as_sql()
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        fields = [column[0] for column in select[:compiler.col_count]]
        assert not compiler.has_composite_fields(fields), "composite primary keys are not supported here"
        compiled = _Compiled(
            sql, tuple(params), list(params).index(self.marker), compiler,
            converters=compiler.get_converters(fields),
            names=[column[0].target.attname for column in select[start:end]], start=start,
            populators=get_related_populators(klass_info, select, connection.alias),
        )
        self._compiled[connection.vendor] = compiled
        return compiled
