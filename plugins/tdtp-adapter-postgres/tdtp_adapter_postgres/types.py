"""PostgreSQL ⇄ TDTP types (protocol §9.3).

Deliberate differences from the reference table: INTEGER fields create ``BIGINT``
columns (TDTP integers are 64-bit; ``precision`` or an integer subtype still picks
``SMALLINT``/``INTEGER``); a timestamp field with a ``timezone`` (``UTC`` from SQLite,
MySQL ``TIMESTAMP`` or the type matrix) creates ``TIMESTAMP WITH TIME ZONE``, as the
``timestamptz`` subtype does, so its values read back as the UTC instants they were
rather than as local times; and psycopg's short type names (``int4``, ``timestamptz``)
are understood too, for the schemas of ``--query`` results.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.types import TypeEngine, UserDefinedType

from tdtp_core.sql import NativeType, TypeMap, celltext
from tdtp_core.sql.celltext import CellBinder
from tdtp_core.types import BLOB, BOOLEAN, DATE, DATE_KINDS, DECIMAL, INTEGER, REAL, TEXT, Field

_INTEGERS = ("SMALLINT", "INT2", "INTEGER", "INT", "INT4", "BIGINT", "INT8")
_KINDS = {
    **dict.fromkeys(_INTEGERS, INTEGER),
    **dict.fromkeys(("SERIAL", "SERIAL4", "BIGSERIAL", "SERIAL8"), INTEGER),
    **dict.fromkeys(("REAL", "FLOAT4", "DOUBLE PRECISION", "FLOAT8", "FLOAT"), REAL),
    **dict.fromkeys(("NUMERIC", "DECIMAL"), DECIMAL),
    **dict.fromkeys(("BOOLEAN", "BOOL"), BOOLEAN),
    "DATE": DATE,
    "BYTEA": BLOB,
}
#: Character types whose values psycopg already returns as ``str``.
TEXT_TYPES = frozenset({"TEXT", "VARCHAR", "CHARACTER VARYING", "CHAR", "CHARACTER",
                        "BPCHAR", "NAME"})
_SIZED_TEXT = frozenset({"VARCHAR", "CHARACTER VARYING", "CHAR", "CHARACTER", "BPCHAR"})
_TIMES = frozenset({"TIME", "TIME WITHOUT TIME ZONE", "TIME WITH TIME ZONE", "TIMETZ"})
_TIMESTAMPS = frozenset({"TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE"})
_TIMESTAMPTZ = frozenset({"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"})
#: Types carried as TEXT with the PostgreSQL name as subtype, created natively again.
NAMED_TEXT = ("uuid", "json", "jsonb", "inet", "cidr", "macaddr", "xml")


class _Named(UserDefinedType[Any]):
    """A column type rendered by name (``XML``, ``TEXT[]``) where SQLAlchemy has none."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


class PostgresTypes(TypeMap):
    def to_field(self, name: str, native: NativeType, *, key: bool = False) -> Field:
        base = native.base
        if base.endswith("[]") or base.startswith("_"):
            return Field(name, TEXT, subtype="array", length=-1, key=key)
        if base.lower() in NAMED_TEXT:
            return Field(name, TEXT, subtype=base.lower(), length=-1, key=key)
        if base in _TIMES:
            return Field(name, "TIMESTAMP", subtype="time", key=key)
        if base in _TIMESTAMPS:
            return Field(name, "TIMESTAMP", key=key)
        if base in _TIMESTAMPTZ:
            return Field(name, "TIMESTAMP", subtype="timestamptz", timezone="UTC", key=key)
        kind = _KINDS.get(base)
        if kind == DECIMAL:
            p, s = native.precision_scale
            return Field(name, DECIMAL, precision=p or 18, scale=2 if s is None else s, key=key)
        if kind is not None:
            return Field(name, kind, key=key)
        length = native.length if base in _SIZED_TEXT else None
        return Field(name, TEXT, length=length, key=key)

    def cell_binder(self, field: Field, native: NativeType) -> CellBinder | None:
        """Cells COPY can take as they are: PostgreSQL reads canonical numbers, days and
        RFC 3339 UTC instants as the values the typed path would send. (Not for
        ``real``: rounding the text to float4 directly could differ from rounding it
        through a double first.)"""
        kind = field.kind
        if field.is_time:
            return None
        if kind == REAL:
            return celltext.decimal_text if native.base in _FLOAT8 else None
        if kind in DATE_KINDS and kind != DATE:
            return celltext.rfc3339_utc_text
        return {
            INTEGER: celltext.integer_text,
            DECIMAL: celltext.decimal_text,
            BOOLEAN: celltext.boolean_text,
            DATE: celltext.date_text,
        }.get(kind)

    def lane_code(self, field: Field, native: NativeType | None) -> str | None:
        """How the COPY text lane writes a column (``tdtp_core/sql/_bulktext.c``): the
        cells :meth:`cell_binder` passes as they are, and text COPY-escaped; None for
        the typed path (times of day, binary, ``real``)."""
        kind = field.kind
        if field.is_time or kind == BLOB:
            return None
        if kind == REAL:
            return "r" if native is not None and native.base in _FLOAT8 else None
        if kind in DATE_KINDS and kind != DATE:
            return "Z"
        if field.is_text:
            return "s"
        return _LANE_CODES.get(kind)

    def to_column_type(self, field: Field) -> TypeEngine[Any]:
        subtype = (field.subtype or "").lower()
        if subtype in NAMED_TEXT:
            return _Named(subtype.upper())
        if subtype == "array":
            return _Named("TEXT[]")
        if subtype == "timestamptz":
            return pg.TIMESTAMP(timezone=True)
        if field.is_time:
            return pg.TIME()
        kind = field.kind
        if kind == INTEGER:
            return _integer(field)
        if kind == REAL:
            return pg.DOUBLE_PRECISION()
        if kind == DECIMAL:
            return sa.NUMERIC(field.precision or 18, 2 if field.scale is None else field.scale)
        if kind == BOOLEAN:
            return sa.BOOLEAN()
        if kind == DATE:
            return sa.DATE()
        if kind in DATE_KINDS:
            return pg.TIMESTAMP(timezone=bool(field.timezone))
        if kind == BLOB:
            return pg.BYTEA()
        return sa.TEXT()


_FLOAT8 = frozenset({"DOUBLE PRECISION", "FLOAT8", "FLOAT"})
_LANE_CODES = {INTEGER: "i", DECIMAL: "d", BOOLEAN: "b", DATE: "D"}


def _integer(field: Field) -> TypeEngine[Any]:
    subtype = (field.subtype or "").lower()
    precision = field.precision or 0
    if subtype in ("tinyint", "smallint", "int2") or 0 < precision <= 32767:
        return sa.SMALLINT()
    if subtype in ("int", "integer", "int4", "serial") or 0 < precision <= 2147483647:
        return sa.INTEGER()
    return sa.BIGINT()
