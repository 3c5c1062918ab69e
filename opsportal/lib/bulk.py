"""Bulk INSERT, UPDATE and SELECT of plain row records in one statement each, however many rows.

Django's ``bulk_create`` binds every value as its own parameter (10,000 alerts x 13 columns =
130,000 parameters, seconds of psycopg's client-side binding) and ``bulk_update`` builds one
``CASE WHEN id=...`` per row and column, which PostgreSQL evaluates row by row. On PostgreSQL we
send all rows as a single JSON parameter and let ``jsonb_to_recordset`` unpack them; elsewhere
(SQLite, the embedded default) Django's own bulk methods are fast enough.

Records are dicts keyed by field attname (``incident_id``, not ``incident``), so no model
instances are built for rows that are only written.

The same goes for the few rows a webhook post writes (its incident, timeline event, conversations,
deliveries, raw delivery): :func:`insert_objects` saves model instances with one statement built
once per model, where the ORM compiled each INSERT again, about as much CPU per row as PostgreSQL
takes to store it. A single row binds each value as its own parameter instead of going through
the JSON one: a long text (a 47 KB raw webhook body) cost PostgreSQL more to unpack from JSON
than to store.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from django.db import connection, models, transaction
from psycopg.types.datetime import TimestamptzLoader

M = TypeVar("M", bound=models.Model)

BATCH = 1_000  # rows per statement for Django's own bulk methods
IDS_PER_STATEMENT = 10_000  # stays under SQLite's 32,766 parameters


def insert_records(
    model: type[models.Model], records: Sequence[dict[str, Any]], *, ignore_conflicts: bool = False
) -> None:
    """INSERT one row per record (primary keys are not read back). A constraint violation raises
    IntegrityError, or with ``ignore_conflicts`` skips that row."""
    if not records:
        return
    if connection.vendor != "postgresql":
        objs = [model(**record) for record in records]
        model._default_manager.bulk_create(objs, batch_size=BATCH, ignore_conflicts=ignore_conflicts)
        return
    sql, fields = _insert_sql(model, tuple(records[0]), ignore_conflicts)
    _execute(sql, fields, records)


def insert_objects(objs: Sequence[M]) -> Sequence[M]:
    """INSERT new instances of one model, as ``bulk_create`` does (field defaults and ``pre_save``,
    e.g. ``auto_now_add``, applied; primary keys set; no signals sent), and return them."""
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return type(objs[0])._default_manager.bulk_create(objs)
    _insert_returning(objs, "")
    return objs


def insert_objects_returning(objs: Sequence[models.Model], expression: str) -> list[Any]:
    """:func:`insert_objects` on PostgreSQL, also reading back ``expression`` (SQL over the new
    row's columns, which may name its table, e.g. a scalar subquery on a row it refers to) for
    each object, in order: what would otherwise take a second round trip."""
    assert connection.vendor == "postgresql", "RETURNING an expression is written for PostgreSQL"
    return _insert_returning(objs, expression) if objs else []


def _insert_returning(objs: Sequence[models.Model], expression: str) -> list[Any]:
    model = type(objs[0])
    pk = model._meta.pk
    assert pk is not None
    if len(objs) == 1:
        # One row: each value its own parameter (see the module's docstring).
        sql, fields = _insert_values_sql(model)
        with connection.cursor() as cursor:
            cursor.execute(sql + (f", {expression}" if expression else ""),
                           [f.get_db_prep_save(f.pre_save(objs[0], True), connection) for f in fields])
            returned = cursor.fetchall()
    else:
        sql, fields = _insert_returning_sql(model)
        records = [{f.attname: f.pre_save(obj, True) for f in fields} for obj in objs]
        returned = _execute(sql + (f", {expression}" if expression else ""), fields, records, returning=True)
    for obj, row in zip(objs, returned, strict=True):
        setattr(obj, pk.attname, row[0])
        obj._state.adding, obj._state.db = False, connection.alias
    return [row[1] for row in returned] if expression else []


def update_records(model: type[models.Model], records: Sequence[dict[str, Any]]) -> None:
    """UPDATE rows by primary key: each record has the primary key (``id``, or the model's own)
    and the same other fields to set."""
    if not records:
        return
    pk = model._meta.pk
    assert pk is not None
    names = tuple(name for name in records[0] if name != pk.attname)
    if connection.vendor != "postgresql":
        objs = [model(**record) for record in records]
        model._default_manager.bulk_update(objs, names, batch_size=BATCH)
        return
    sql, fields = _update_sql(model, names)
    _execute(sql, fields, records)


def update_records_together(*updates: tuple[type[models.Model], Sequence[dict[str, Any]]]) -> None:
    """Several :func:`update_records` (one model each) that take effect together or not at all.
    On PostgreSQL one statement, the first UPDATEs as data-modifying WITH clauses: a transaction
    of one UPDATE each cost four round trips (an outbox flush recording its deliveries and its
    conversation). Elsewhere one UPDATE each, in a transaction."""
    wanted = [(model, records) for model, records in updates if records]
    if len(wanted) == 1:
        update_records(*wanted[0])
        return
    if connection.vendor != "postgresql":
        with transaction.atomic():
            for model, records in wanted:
                update_records(model, records)
        return
    statements, params = [], []
    for model, records in wanted:
        pk = model._meta.pk
        assert pk is not None
        sql, fields = _update_sql(model, tuple(name for name in records[0] if name != pk.attname))
        statements.append(sql)
        params.append(_encoded(fields, records))
    *first, last = statements
    sql = "WITH " + ", ".join(f"u{n} AS ({statement})" for n, statement in enumerate(first)) + " " + last
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def touch_seen(model: type[models.Model], ids: list[int], now: datetime) -> None:
    """``last_seen_at = now, times_received + 1`` on rows by primary key: on PostgreSQL one
    statement with the ids as one array parameter (the ORM's ``pk__in`` prepares every id on its
    own, which a storm's repeats pay thousands of times a second)."""
    if not ids:
        return
    if connection.vendor != "postgresql":
        for chunk in id_chunks(ids):
            model._default_manager.filter(pk__in=chunk).update(
                last_seen_at=now, times_received=models.F("times_received") + 1)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_qn(model._meta.db_table)} SET last_seen_at = %s, times_received = times_received + 1 "
            "WHERE id = ANY(%s::bigint[])",
            [now, array_literal(ids)],
        )


def array_literal(values: Sequence[int | str]) -> str:
    """``values`` as one PostgreSQL array literal, for ``= ANY(%s::type[])``: psycopg adapts a
    Python list one element at a time in Python (200 fingerprints cost 0.5 ms, the literal
    0.1 ms). Strings are quoted and escaped; NUL cannot occur in text PostgreSQL stores."""
    if values and isinstance(values[0], str):
        return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def rows_where(
    model: type[models.Model], fields: tuple[str, ...], *, equal: tuple[str, Any],
    any_of: tuple[str, list[Any]] | None = None,
) -> list[tuple[Any, ...]]:
    """``values_list(*fields)`` of the rows whose ``equal`` field has that value and, with
    ``any_of``, whose field is one of those values. On PostgreSQL one statement built once per
    model and fields, the list as one array parameter: the ORM compiles the query again on every
    call and binds each listed value on its own, which cost a repeat post more CPU than
    PostgreSQL takes to answer. JSON fields are decoded as the ORM decodes them; timestamps by
    psycopg's C loader, in UTC like the ORM's (whose Python loader doubled the CPU of reading a
    storm post's 200 alerts: 3.9-4.5 ms, now 1.5-2.2 ms)."""
    name, value = equal
    if connection.vendor != "postgresql":
        matching = model._default_manager.filter(**{name: value})
        if any_of is not None:
            matching = matching.filter(**{f"{any_of[0]}__in": any_of[1]})
        return list(matching.values_list(*fields))
    sql, decoded = _select_sql(model, fields, name, any_of[0] if any_of is not None else None)
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, [value] if any_of is None else [value, array_literal(any_of[1])])
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    if not decoded:
        return rows
    decoded_rows = []
    for row in rows:
        values = list(row)
        for i, load in decoded:
            if values[i] is not None:
                values[i] = load(values[i])
        decoded_rows.append(tuple(values))
    return decoded_rows


def id_chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + IDS_PER_STATEMENT] for i in range(0, len(ids), IDS_PER_STATEMENT)]


# The statements are built once per model and set of fields: a storm sends the same few thousands
# of times a second (PostgreSQL only, so the quoting and column types are the same for every connection).
@functools.cache
def _insert_sql(model: type[models.Model], names: tuple[str, ...], ignore_conflicts: bool) -> tuple[str, list[Any]]:
    fields = [model._meta.get_field(name) for name in names]
    sql = (f"INSERT INTO {_qn(model._meta.db_table)} ({_columns(fields)}) "
           f"SELECT {_columns(fields)} FROM jsonb_to_recordset(%s::jsonb) AS r({_definitions(fields)})"
           + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""))
    return sql, fields


def _written_fields(model: type[models.Model]) -> tuple[Any, list[Any]]:
    """(primary key, every other concrete field): what insert_objects writes and reads back."""
    pk = model._meta.pk
    assert pk is not None
    return pk, [f for f in model._meta.concrete_fields if f is not pk]


@functools.cache
def _insert_returning_sql(model: type[models.Model]) -> tuple[str, list[Any]]:
    pk, fields = _written_fields(model)
    sql, _ = _insert_sql(model, tuple(f.name for f in fields), False)
    return f"{sql} RETURNING {_qn(pk.column)}", fields


@functools.cache
def _insert_values_sql(model: type[models.Model]) -> tuple[str, list[Any]]:
    pk, fields = _written_fields(model)
    values = ", ".join(["%s"] * len(fields))
    return (f"INSERT INTO {_qn(model._meta.db_table)} ({_columns(fields)}) VALUES ({values}) "
            f"RETURNING {_qn(pk.column)}"), fields


@functools.cache
def _update_sql(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, list[Any]]:
    pk = model._meta.pk
    assert pk is not None and pk.column is not None
    fields: list[Any] = [pk, *(model._meta.get_field(name) for name in names)]
    assignments = ", ".join(f"{_qn(f.column)} = r.{_qn(f.column)}" for f in fields[1:])
    sql = (f"UPDATE {_qn(model._meta.db_table)} AS t SET {assignments} "
           f"FROM jsonb_to_recordset(%s::jsonb) AS r({_definitions(fields)}) "
           f"WHERE t.{_qn(pk.column)} = r.{_qn(pk.column)}")
    return sql, fields


@functools.cache
def _select_sql(
    model: type[models.Model], names: tuple[str, ...], equal: str, any_of: str | None
) -> tuple[str, list[tuple[int, Callable[[str], Any]]]]:
    """The SELECT of :func:`rows_where`, and how to decode its JSON columns, by position (as
    JSONField.from_db_value does for a plain column)."""
    fields: list[Any] = [model._meta.get_field(name) for name in (*names, equal, *([any_of] if any_of else []))]
    where = f"{_qn(fields[len(names)].column)} = %s"
    if any_of is not None:
        where += f" AND {_qn(fields[-1].column)} = ANY(%s::{_column_type(fields[-1])}[])"
    fields = fields[:len(names)]
    sql = f"SELECT {_columns(fields)} FROM {_qn(model._meta.db_table)} WHERE {where}"
    return sql, [(i, functools.partial(json.loads, cls=f.decoder) if f.decoder else _json_value)
                 for i, f in enumerate(fields) if isinstance(f, models.JSONField)]


def _json_value(text: str) -> Any:
    """A JSON column's text as Python values: msgspec where it can (a repeat post reads thousands
    of stored label sets), json for what msgspec will not hold (a number beyond a float's range)."""
    try:
        return msgspec.json.decode(text)
    except msgspec.MsgspecError:
        return json.loads(text)


def _execute(
    sql: str, fields: list[Any], records: Sequence[dict[str, Any]], *, returning: bool = False
) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [_encoded(fields, records)])
        return cursor.fetchall() if returning else []


def _encoded(fields: list[Any], records: Sequence[dict[str, Any]]) -> str:
    # msgspec writes JSON at several times json.dumps' speed (a storm post's thousands of alert
    # rows), datetimes in RFC 3339; a NaN would become null rather than text PostgreSQL refuses.
    try:
        encoded = msgspec.json.encode(records if _as_is(fields) else _rows_for(fields, records))
    except TypeError:  # a value msgspec does not know (a lazy string, say): each field prepares its own
        encoded = msgspec.json.encode(_rows_for(fields, records))
    return encoded.decode()


def _as_is(fields: list[Any]) -> bool:
    """Records of these fields go to PostgreSQL as they are: every key is its column and every
    value plain JSON or a datetime (a storm post's alert rows skip ``_rows_for``)."""
    return all(f.attname == f.column and isinstance(f, _AS_IS) for f in fields)


_AS_IS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.FloatField,
          models.JSONField, models.DateTimeField, models.ForeignKey)
_NATIVE = (str, int, float, dict, list, datetime)


def _rows_for(fields: list[Any], records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records keyed by column, each value PostgreSQL cannot read from JSON as it is prepared
    by its field."""
    names = [(f.attname, f.column, f) for f in fields]
    rows = []
    for record in records:
        row = {}
        for attname, column, field in names:
            value = record[attname]
            if value is not None and not isinstance(value, _NATIVE):
                value = field.get_prep_value(value)
            row[column] = value  # JSON fields: nested JSON goes to the jsonb column as is
        rows.append(row)
    return rows


def _columns(fields: list[Any]) -> str:
    return ", ".join(_qn(f.column) for f in fields)


def _definitions(fields: list[Any]) -> str:
    return ", ".join(f"{_qn(f.column)} {_column_type(f)}" for f in fields)


def _column_type(field: Any) -> str:
    if isinstance(field, models.ForeignKey):
        target: Any = field.target_field  # a concrete field; django-stubs types it as the base Field
        return str(target.rel_db_type(connection))
    kind = field.db_type(connection)
    return str(kind).split(" CHECK")[0] if kind else "text"


def _qn(name: str) -> str:
    return str(connection.ops.quote_name(name))
