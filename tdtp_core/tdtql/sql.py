"""TDTQL → SQLAlchemy Core: WHERE, ORDER BY and paging for one table (DECISIONS 11).

Every value reaches the database as a bound parameter typed by its column; identifiers
go through SQLAlchemy's quoting. Nothing from a query is ever spliced into SQL text.

Semantics follow the in-memory executor where the dialect allows:

* A literal that makes a comparison unknown (NULL, NaN, "no date") compiles to FALSE:
  the WHERE has no NOT (it was pushed down when parsed), so unknown and false drop the
  same rows. An empty OR group is FALSE, an empty AND group TRUE (the reference's SQL
  generator dropped empty groups instead).
* ``LIKE`` is case-sensitive with no escape character of its own: the pattern is bound
  with ``/`` escaping ``/`` and ``[`` (a class opener on SQL Server), under ``ESCAPE '/'``.
  MySQL/MariaDB compare under ``utf8mb4_bin``, SQL Server under ``Latin1_General_BIN2``;
  PostgreSQL's LIKE is case-sensitive already; SQLite's is only with
  ``PRAGMA case_sensitive_like = ON``, which the adapter sets on connect
  (:func:`sqlite_case_sensitive_like`). A non-text column is cast to text, whose
  spelling is the database's (in memory it is the canonical TDTP cell text).
* NULLs sort first ascending and last descending, as in memory: the default of SQLite,
  MySQL and SQL Server; PostgreSQL gets ``NULLS FIRST``/``NULLS LAST``.
* Text comparison and ordering follow the column's collation (in memory: code points).
* Paging without ORDER BY orders by the primary key (else the first column), so pages
  are stable and SQL Server's OFFSET has the ORDER BY it requires.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement, False_, True_
from sqlalchemy.sql.functions import FunctionElement

from tdtp_core.tdtql.ast import Filter, Group, canonical_operator
from tdtp_core.tdtql.literals import field_index, is_unknown, list_items, parse_literal
from tdtp_core.tdtql.query import Query
from tdtp_core.types import BLOB, BOOLEAN, DATE, DECIMAL, INTEGER, REAL, TEXT, TIMESTAMP, Schema
from tdtp_core.types import Field as TdtpField

LIKE_ESCAPE = "/"

_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
    "lte": operator.le, "gt": operator.gt, "gte": operator.ge,
}


# ------------------------------------------------------- dialect-specific pieces


class _CaseSensitive(FunctionElement[str]):
    """A text operand compared code point by code point where the dialect needs telling."""

    inherit_cache = True
    name = "tdtp_case_sensitive"
    type = sqltypes.String()


@compiles(_CaseSensitive)
def _case_sensitive(element: _CaseSensitive, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_CaseSensitive, "mysql")
def _case_sensitive_mysql(element: _CaseSensitive, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"CONVERT({inner} USING utf8mb4) COLLATE utf8mb4_bin"


@compiles(_CaseSensitive, "mssql")
def _case_sensitive_mssql(element: _CaseSensitive, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} COLLATE Latin1_General_BIN2"


class _Ascending(FunctionElement[Any]):
    """``col ASC`` with NULLs first on every dialect."""

    inherit_cache = True
    name = "tdtp_ascending"


class _Descending(FunctionElement[Any]):
    """``col DESC`` with NULLs last on every dialect."""

    inherit_cache = True
    name = "tdtp_descending"


@compiles(_Ascending)
def _ascending(element: _Ascending, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} ASC"


@compiles(_Descending)
def _descending(element: _Descending, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} DESC"


@compiles(_Ascending, "postgresql")
def _ascending_pg(element: _Ascending, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} ASC NULLS FIRST"


@compiles(_Descending, "postgresql")
def _descending_pg(element: _Descending, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} DESC NULLS LAST"


def _sort_key(column: ColumnElement[Any], descending: bool) -> ColumnElement[Any]:
    return _Descending(column) if descending else _Ascending(column)


def sqlite_case_sensitive_like(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite connect-event listener giving LIKE TDTQL's case sensitivity:
    ``sqlalchemy.event.listen(engine, "connect", sqlite_case_sensitive_like)``."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA case_sensitive_like = ON")
    cursor.close()


def like_pattern(pattern: str) -> str:
    """A TDTQL pattern (only ``%`` and ``_`` special) for ``LIKE … ESCAPE '/'``."""
    return "".join(LIKE_ESCAPE + ch if ch in "/[" else ch for ch in pattern)


# ---------------------------------------------------------------- the pushdown


@dataclass
class SqlPushdown:
    """A query as SQLAlchemy pieces for one table; :meth:`apply` puts them on a SELECT.

    ``tail`` is set (and ``limit`` None) for a negative limit: the last ``tail`` rows.
    ``columns`` is the query's projection (exact column names, empty for all): apply()
    leaves the select list alone, the adapter chooses it and builds its schema from it.
    ``keys`` are the (column key, descending) pairs behind ``order_by``.
    """

    where: ColumnElement[bool] | None
    order_by: list[ColumnElement[Any]]
    limit: int | None
    offset: int | None
    tail: int | None
    columns: tuple[str, ...] = ()
    keys: tuple[tuple[str, bool], ...] = ()
    table: sa.Table | None = field(default=None, repr=False)

    def apply(self, select: sa.Select[Any]) -> sa.Select[Any]:
        """``select`` (over :attr:`table`) filtered, ordered and paged."""
        if self.where is not None:
            select = select.where(self.where)
        if self.tail is not None:
            return self._tail(select, self.tail)
        if self.order_by:
            select = select.order_by(*self.order_by)
        if self.limit is not None:
            select = select.limit(self.limit)
        if self.offset is not None:
            select = select.offset(self.offset)
        return select

    def _tail(self, select: sa.Select[Any], count: int) -> sa.Select[Any]:
        """The last ``count`` rows after the offset: take the first ``count`` in reversed
        order, then put them back in order."""
        names = list(select.selected_columns.keys())
        assert self.table is not None
        missing = [self.table.c[key] for key, _ in self.keys if key not in names]
        inner = select.add_columns(*missing) if missing else select
        if self.offset is not None:
            inner = inner.order_by(*self.order_by).offset(self.offset)
        page = inner.subquery("_page")
        reverse = [_sort_key(page.c[key], not desc) for key, desc in self.keys]
        last = sa.select(page).order_by(*reverse).limit(count).subquery("_tail")
        ordered = [_sort_key(last.c[key], desc) for key, desc in self.keys]
        return sa.select(*(last.c[name] for name in names)).order_by(*ordered)

    def count(self, select: sa.Select[Any]) -> sa.Select[Any]:
        """``SELECT count(*)`` of the rows of ``select`` that pass the filters: the true
        ``RecordsAfterFilters`` (DECISIONS 11)."""
        if self.where is not None:
            select = select.where(self.where)
        return sa.select(sa.func.count()).select_from(select.order_by(None).subquery())


# ------------------------------------------------------------------- compiling


def field_for_column(column: sa.Column[Any]) -> TdtpField:
    """The TDTP field a column's SQLAlchemy type stands for (literals are parsed with it)."""
    t = column.type
    name = column.name
    if isinstance(t, sqltypes.Boolean):
        return TdtpField(name, BOOLEAN)
    if isinstance(t, sqltypes.Integer):
        return TdtpField(name, INTEGER)
    if isinstance(t, sqltypes.Float):
        return TdtpField(name, REAL)
    if isinstance(t, sqltypes.Numeric):
        return TdtpField(name, DECIMAL, precision=t.precision, scale=t.scale)
    if isinstance(t, sqltypes.DateTime):
        return TdtpField(name, TIMESTAMP, timezone="UTC" if t.timezone else None)
    if isinstance(t, sqltypes.Date):
        return TdtpField(name, DATE)
    if isinstance(t, sqltypes.Time):
        return TdtpField(name, TIMESTAMP, subtype="time")
    if isinstance(t, sqltypes.LargeBinary | sqltypes.BINARY | sqltypes.VARBINARY):
        return TdtpField(name, BLOB)
    return TdtpField(name, TEXT)


class _Compiler:
    def __init__(self, table: sa.Table, schema: Schema | None) -> None:
        self.table = table
        self.schema = schema
        self.names = Schema(TdtpField(c.name, TEXT) for c in table.columns)

    def column(self, name: str) -> sa.Column[Any]:
        return list(self.table.columns)[field_index(self.names, name)]

    def field(self, column: sa.Column[Any]) -> TdtpField:
        if self.schema is not None:
            return self.schema[field_index(self.schema, column.name)]
        return field_for_column(column)

    def condition(self, f: Filter) -> ColumnElement[bool]:
        op = canonical_operator(f.operator)
        column = self.column(f.field)
        if op == "is_null":
            return column.is_(None)
        if op == "is_not_null":
            return column.is_not(None)
        tfield = self.field(column)
        if op in ("like", "not_like"):
            text = column if isinstance(column.type, sqltypes.String) else sa.cast(
                column, sqltypes.String()
            )
            target = _CaseSensitive(text)
            pattern = sa.bindparam(None, like_pattern(f.value), type_=sqltypes.String())
            if op == "like":
                return target.like(pattern, escape=LIKE_ESCAPE)
            return target.not_like(pattern, escape=LIKE_ESCAPE)
        if op in ("in", "not_in"):
            items = [parse_literal(tfield, item) for item in list_items(f.value)]
            known = [v for v in items if not is_unknown(v)]
            if op == "in":
                return column.in_(known) if known else sa.false()
            return sa.false() if len(known) < len(items) else column.not_in(known)
        if op == "between":
            low, high = parse_literal(tfield, f.value), parse_literal(tfield, f.value2)
            if is_unknown(low) or is_unknown(high):
                return sa.false()
            return column.between(self.bind(column, low), self.bind(column, high))
        value = parse_literal(tfield, f.value)
        if is_unknown(value):
            return sa.false()
        return _COMPARE[op](column, self.bind(column, value))

    @staticmethod
    def bind(column: sa.Column[Any], value: Any) -> ColumnElement[Any]:
        return sa.bindparam(None, value, type_=column.type)

    def group(self, group: Group) -> ColumnElement[bool]:
        parts = [self.condition(f) for f in group.filters]
        parts += [self.group(g) for g in group.groups]
        unit, zero = (True_, False_) if group.kind == "And" else (False_, True_)
        if any(isinstance(p, zero) for p in parts):
            return sa.false() if group.kind == "And" else sa.true()
        parts = [p for p in parts if not isinstance(p, unit)]
        if not parts:
            return sa.true() if group.kind == "And" else sa.false()
        if len(parts) == 1:
            return parts[0]
        return sa.and_(*parts) if group.kind == "And" else sa.or_(*parts)

    def default_order(self) -> list[sa.Column[Any]]:
        return list(self.table.primary_key.columns) or list(self.table.columns)[:1]


def compile_pushdown(query: Query, table: sa.Table, schema: Schema | None) -> SqlPushdown:
    """See :meth:`Query.to_sqlalchemy`."""
    c = _Compiler(table, schema)
    where = None if query.filters is None else c.group(query.filters)
    if isinstance(where, True_):
        where = None
    keys = [(c.column(item.field), item.descending) for item in query.order_by]
    if not keys and (query.limit or query.offset > 0):
        keys = [(column, False) for column in c.default_order()]
    return SqlPushdown(
        where=where,
        order_by=[_sort_key(column, desc) for column, desc in keys],
        limit=query.limit if query.limit > 0 else None,
        offset=query.offset if query.offset > 0 else None,
        tail=-query.limit if query.limit < 0 else None,
        columns=tuple(c.column(name).name for name in query.fields),
        keys=tuple((column.key, desc) for column, desc in keys),
        table=table,
    )
