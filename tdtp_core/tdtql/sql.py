"""TDTQL → SQLAlchemy Core: WHERE, ORDER BY and paging for one table (DECISIONS 11).

Every value reaches the database as a bound parameter typed by its column; identifiers
go through SQLAlchemy's quoting. Nothing from a query is ever spliced into SQL text.

A query keeps the same rows on every database and in memory:

* A literal that makes a comparison unknown (NULL, NaN, "no date") compiles to FALSE:
  the WHERE has no NOT (it was pushed down when parsed), so unknown and false drop the
  same rows. An empty OR group is FALSE, an empty AND group TRUE (the reference's SQL
  generator dropped empty groups instead).
* Text compares and sorts by code point, case-sensitive, with trailing spaces significant
  (``'Ann' != 'Ann '``), whatever the column's collation: PostgreSQL orders under
  ``COLLATE "C"`` (its equality is exact already), SQLite under ``COLLATE BINARY``,
  MySQL/MariaDB compare the UTF-8 bytes (``CAST(CONVERT(x USING utf8mb4) AS BINARY)``,
  which has no PAD SPACE, unlike ``utf8mb4_bin``), SQL Server compares under
  ``Latin1_General_BIN2`` and breaks its padded ties by ``LEN(x + N'.')``. Equality and
  IN keep the plain column comparison in front, so an index still narrows the rows.
  SQL Server residue, untested on a live server: a value ending in a character below
  U+0020 orders as if padded, and BIN2 orders UTF-16 code units (characters above U+FFFF
  before U+E000–U+FFFF).
* ``LIKE`` is case-sensitive with no escape character of its own: the pattern is bound
  with ``/`` escaping ``/`` and ``[`` (a class opener on SQL Server), under ``ESCAPE '/'``.
  MySQL/MariaDB match under ``utf8mb4_bin``, SQL Server under ``Latin1_General_BIN2``;
  PostgreSQL's LIKE is case-sensitive already; SQLite's is only with
  ``PRAGMA case_sensitive_like = ON``, which the adapter sets on connect
  (:func:`sqlite_case_sensitive_like`). LIKE matches the TDTP cell text: of TEXT fields,
  and of INTEGER (``42``), BOOLEAN (``1``/``0``) and DATE (``YYYY-MM-DD``) fields, rendered
  so in SQL. On REAL, DECIMAL, timestamps, times of day and BLOB it is a query error
  (:func:`~tdtp_core.tdtql.literals.check_like_field`): their text differs between
  databases (``1500.5`` in SQLite, ``1500.50`` in a packet), so no pattern could mean
  the same everywhere; compare them with ``=``, ``<`` or ``BETWEEN``.
* NaN compares with nothing: PostgreSQL, the one database that stores it, gets
  ``AND x <> 'NaN'`` after ``<>``, ``>``, ``>=`` and ``NOT IN`` (its NaN is greater than
  every number); NaN sorts above +Infinity there as in memory.
* NULLs sort first ascending and last descending, as in memory: the default of SQLite,
  MySQL and SQL Server; PostgreSQL gets ``NULLS FIRST``/``NULLS LAST``.
* Paging without ORDER BY orders by the primary key (else the first column), so pages
  are stable and SQL Server's OFFSET has the ORDER BY it requires.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement, False_, True_
from sqlalchemy.sql.functions import FunctionElement

from tdtp_core.tdtql.ast import Filter, Group, canonical_operator
from tdtp_core.tdtql.literals import (
    check_like_field,
    field_index,
    is_unknown,
    list_items,
    parse_literal,
)
from tdtp_core.tdtql.query import Query
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DECIMAL,
    FLOAT_KINDS,
    INTEGER,
    REAL,
    TEXT,
    TIMESTAMP,
    Schema,
)
from tdtp_core.types import Field as TdtpField

LIKE_ESCAPE = "/"
#: Column types that may hold NaN (``Float`` is no ``Numeric`` in SQLAlchemy 2.1).
_NUMBER_TYPES = (sqltypes.Numeric, sqltypes.Float)

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


class _CodePoints(FunctionElement[str]):
    """A text operand that compares and sorts by code point, trailing spaces included."""

    inherit_cache = True
    name = "tdtp_code_points"
    type = sqltypes.String()


@compiles(_CodePoints)
def _code_points(element: _CodePoints, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_CodePoints, "sqlite")
def _code_points_sqlite(element: _CodePoints, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} COLLATE BINARY"


@compiles(_CodePoints, "postgresql")
def _code_points_pg(element: _CodePoints, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.clauses, **kw)} COLLATE "C"'


@compiles(_CodePoints, "mysql")
def _code_points_mysql(element: _CodePoints, compiler: SQLCompiler, **kw: Any) -> str:
    # utf8mb4_bin pads with spaces ('a' = 'a '); the UTF-8 bytes order as code points do.
    return f"CAST(CONVERT({compiler.process(element.clauses, **kw)} USING utf8mb4) AS BINARY)"


@compiles(_CodePoints, "mssql")
def _code_points_mssql(element: _CodePoints, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} COLLATE Latin1_General_BIN2"


def _mssql_length(sql: str) -> str:
    """The length of a text with its trailing spaces, which ``LEN`` alone drops."""
    return f"LEN({sql} + N'.')"


#: The type of the conditions below: not Boolean, which non-native-boolean dialects
#: would compare with 1 (``(a AND b) = 1`` is no SQL on SQL Server).
_CONDITION = cast("sqltypes.TypeEngine[bool]", sqltypes.NullType())


class _TextCompare(FunctionElement[bool]):
    """``left <op> right`` on text by code point (see the module docstring)."""

    inherit_cache = True
    type = _CONDITION
    sql_operator = "="


class _TextEq(_TextCompare):
    inherit_cache = True
    name = "tdtp_text_eq"
    sql_operator = "="


class _TextNe(_TextCompare):
    inherit_cache = True
    name = "tdtp_text_ne"
    sql_operator = "<>"


class _TextLt(_TextCompare):
    inherit_cache = True
    name = "tdtp_text_lt"
    sql_operator = "<"


class _TextLe(_TextCompare):
    inherit_cache = True
    name = "tdtp_text_le"
    sql_operator = "<="


class _TextGt(_TextCompare):
    inherit_cache = True
    name = "tdtp_text_gt"
    sql_operator = ">"


class _TextGe(_TextCompare):
    inherit_cache = True
    name = "tdtp_text_ge"
    sql_operator = ">="


_TEXT_COMPARE: dict[str, type[_TextCompare]] = {
    "eq": _TextEq, "ne": _TextNe, "lt": _TextLt, "lte": _TextLe, "gt": _TextGt, "gte": _TextGe,
}


def _operands(element: FunctionElement[Any], compiler: SQLCompiler,
              **kw: Any) -> list[str]:
    return [compiler.process(c, **kw) for c in element.clauses]


@compiles(_TextCompare)
def _text_compare(element: _TextCompare, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = _operands(element, compiler, **kw)
    return f"({left} {element.sql_operator} {right})"


@compiles(_TextCompare, "sqlite")
def _text_compare_sqlite(element: _TextCompare, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = _operands(element, compiler, **kw)
    return f"({left} COLLATE BINARY {element.sql_operator} {right})"


@compiles(_TextCompare, "postgresql")
def _text_compare_pg(element: _TextCompare, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = _operands(element, compiler, **kw)
    if element.sql_operator in ("=", "<>"):  # deterministic collations: equal = same bytes
        return f"({left} {element.sql_operator} {right})"
    return f'({left} COLLATE "C" {element.sql_operator} {right})'


@compiles(_TextCompare, "mysql")
def _text_compare_mysql(element: _TextCompare, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = _operands(element, compiler, **kw)
    op = element.sql_operator
    exact = (f"CAST(CONVERT({left} USING utf8mb4) AS BINARY) {op} "
             f"CAST(CONVERT({right} USING utf8mb4) AS BINARY)")
    if op == "=":  # the collation's equality first: it can use an index
        return f"({left} = {right} AND {exact})"
    return f"({exact})"


@compiles(_TextCompare, "mssql")
def _text_compare_mssql(element: _TextCompare, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = _operands(element, compiler, **kw)
    op = element.sql_operator
    binary = f"{left} COLLATE Latin1_General_BIN2"
    same_length = f"{_mssql_length(left)} = {_mssql_length(right)}"
    if op == "=":  # BIN2 still pads: 'a' = 'a ' unless the lengths differ
        return f"({left} = {right} AND {binary} = {right} AND {same_length})"
    if op == "<>":
        return f"({binary} <> {right} OR {_mssql_length(left)} <> {_mssql_length(right)})"
    strict = op[0]  # < or >: between padded-equal values the shorter is the smaller
    return (f"({binary} {strict} {right} OR ({binary} = {right} AND "
            f"{_mssql_length(left)} {op} {_mssql_length(right)}))")


class _TextIn(FunctionElement[bool]):
    """``column IN (values…)`` on text by code point."""

    inherit_cache = True
    name = "tdtp_text_in"
    type = _CONDITION


@compiles(_TextIn)
def _text_in(element: _TextIn, compiler: SQLCompiler, **kw: Any) -> str:
    column, *values = _operands(element, compiler, **kw)
    return f"({column} IN ({', '.join(values)}))"


@compiles(_TextIn, "sqlite")
def _text_in_sqlite(element: _TextIn, compiler: SQLCompiler, **kw: Any) -> str:
    column, *values = _operands(element, compiler, **kw)
    return f"({column} COLLATE BINARY IN ({', '.join(values)}))"


@compiles(_TextIn, "mysql")
def _text_in_mysql(element: _TextIn, compiler: SQLCompiler, **kw: Any) -> str:
    column, *values = _operands(element, compiler, **kw)
    exact = ", ".join(f"CAST(CONVERT({v} USING utf8mb4) AS BINARY)" for v in values)
    return (f"({column} IN ({', '.join(values)}) AND "
            f"CAST(CONVERT({column} USING utf8mb4) AS BINARY) IN ({exact}))")


@compiles(_TextIn, "mssql")
def _text_in_mssql(element: _TextIn, compiler: SQLCompiler, **kw: Any) -> str:
    column, *values = _operands(element, compiler, **kw)
    return "(" + " OR ".join(
        f"({column} = {v} AND {column} COLLATE Latin1_General_BIN2 = {v} AND "
        f"{_mssql_length(column)} = {_mssql_length(v)})" for v in values) + ")"


class _NotNaN(FunctionElement[bool]):
    """``test`` on a number column, false for NaN where the column can hold it: in
    PostgreSQL NaN is greater than every number (``NaN > 1``, ``NaN <> 1``); to TDTQL it
    compares with nothing."""

    inherit_cache = True
    name = "tdtp_not_nan"
    type = _CONDITION


@compiles(_NotNaN)
def _not_nan(element: _NotNaN, compiler: SQLCompiler, **kw: Any) -> str:
    test, _ = element.clauses
    return f"({compiler.process(test, **kw)})"


@compiles(_NotNaN, "postgresql")
def _not_nan_pg(element: _NotNaN, compiler: SQLCompiler, **kw: Any) -> str:
    test, column = _operands(element, compiler, **kw)
    return f"({test} AND {column} <> 'NaN')"


class _DateText(FunctionElement[str]):
    """A DATE column as its TDTP cell text, ``YYYY-MM-DD``, whatever the session's style."""

    inherit_cache = True
    name = "tdtp_date_text"
    type = sqltypes.String()


@compiles(_DateText)
def _date_text(element: _DateText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS VARCHAR(10))"


@compiles(_DateText, "sqlite")
def _date_text_sqlite(element: _DateText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m-%d', {compiler.process(element.clauses, **kw)})"


@compiles(_DateText, "postgresql")
def _date_text_pg(element: _DateText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


@compiles(_DateText, "mysql")
def _date_text_mysql(element: _DateText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS CHAR)"


@compiles(_DateText, "mssql")
def _date_text_mssql(element: _DateText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CONVERT(VARCHAR(10), {compiler.process(element.clauses, **kw)}, 23)"


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


@compiles(_Ascending, "mssql")
@compiles(_Descending, "mssql")
def _direction_mssql(element: _Ascending | _Descending, compiler: SQLCompiler,
                     **kw: Any) -> str:
    direction = "DESC" if isinstance(element, _Descending) else "ASC"
    (key,) = element.clauses
    sql = f"{compiler.process(key, **kw)} {direction}"
    if isinstance(key, _CodePoints):  # BIN2 pads: 'a' and 'a ' tie, the shorter first
        (text,) = key.clauses
        sql += f", {_mssql_length(compiler.process(text, **kw))} {direction}"
    return sql


def is_text_column(column: ColumnElement[Any]) -> bool:
    """A column the database compares with a collation (SQL text types)."""
    return isinstance(column.type, sqltypes.String)


def _text_operand(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """Enums (ordered by declaration, not collatable in PostgreSQL) as plain text."""
    if isinstance(column.type, sqltypes.Enum):
        return sa.cast(column, sqltypes.String())
    return column


def _sort_key(column: ColumnElement[Any], descending: bool) -> ColumnElement[Any]:
    """One ORDER BY key as in memory: NULLs first ascending, text by code point."""
    key: ColumnElement[Any] = column
    if is_text_column(column):
        key = _CodePoints(_text_operand(column))
    return _Descending(key) if descending else _Ascending(key)


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
            target = _CaseSensitive(self.like_text(column, tfield))
            pattern = sa.bindparam(None, like_pattern(f.value), type_=sqltypes.String())
            if op == "like":
                return target.like(pattern, escape=LIKE_ESCAPE)
            return target.not_like(pattern, escape=LIKE_ESCAPE)
        text = tfield.is_text and is_text_column(column)
        operand = _text_operand(column) if text else column
        if op in ("in", "not_in"):
            items = [parse_literal(tfield, item) for item in list_items(f.value)]
            known = [v for v in items if not is_unknown(v)]
            if not known or (op == "not_in" and len(known) < len(items)):
                return sa.false()  # x IN (NULL) and x NOT IN (…, NULL) are never true
            if text:
                found = _TextIn(operand, *(self.bind(column, v) for v in known))
                return found if op == "in" else sa.not_(found)
            if op == "in":
                return column.in_(known)
            return self.not_nan(column, tfield, column.not_in(known))
        if op == "between":
            low, high = parse_literal(tfield, f.value), parse_literal(tfield, f.value2)
            if is_unknown(low) or is_unknown(high):
                return sa.false()
            if text:
                return sa.and_(_TextGe(operand, self.bind(column, low)),
                               _TextLe(operand, self.bind(column, high)))
            return column.between(self.bind(column, low), self.bind(column, high))
        value = parse_literal(tfield, f.value)
        if is_unknown(value):
            return sa.false()
        if text:
            return _TEXT_COMPARE[op](operand, self.bind(column, value))
        test = _COMPARE[op](column, self.bind(column, value))
        return self.not_nan(column, tfield, test) if op in ("ne", "gt", "gte") else test

    @staticmethod
    def not_nan(column: sa.Column[Any], tfield: TdtpField,
                test: ColumnElement[bool]) -> ColumnElement[bool]:
        """``test``, false on NaN for REAL and DECIMAL columns (see :class:`_NotNaN`)."""
        if tfield.kind in FLOAT_KINDS and isinstance(column.type, _NUMBER_TYPES):
            return _NotNaN(test, column)
        return test

    @staticmethod
    def like_text(column: sa.Column[Any], tfield: TdtpField) -> ColumnElement[Any]:
        """The column as the TDTP cell text LIKE matches (see the module docstring)."""
        check_like_field(tfield)
        if is_text_column(column):
            return _text_operand(column)
        if tfield.kind == BOOLEAN:
            return sa.case((column == sa.true(), sa.literal("1", sqltypes.String())),
                           (column == sa.false(), sa.literal("0", sqltypes.String())))
        if tfield.kind == DATE and isinstance(column.type, sqltypes.Date):
            return _DateText(column)
        return sa.cast(column, sqltypes.String())  # TEXT subtypes (uuid, json), INTEGER

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
