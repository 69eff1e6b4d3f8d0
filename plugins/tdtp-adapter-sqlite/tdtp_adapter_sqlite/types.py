"""SQLite ⇄ TDTP types (protocol §9.2) and the conversions SQLite's text storage needs.

Deliberate extensions of the reference table, so that every TDTP type survives a round
trip through SQLite: BOOLEAN is declared ``BOOLEAN`` (not ``INTEGER``), a time of day
``TIME``, and ``DOUBLE PRECISION`` reads as REAL. Dates and timestamps are stored as
ISO text (``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC) and read back as
raw text, never through the driver's date parsing (regression §12.4).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from tdtp_core.sql import Binder, NativeType, Reader, TypeMap, celltext, convert
from tdtp_core.sql.celltext import CellBinder, CellEncoder
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DATE_KINDS,
    DECIMAL,
    INTEGER,
    REAL,
    TEXT,
    TIMESTAMP,
    Field,
)

_KINDS = {
    **dict.fromkeys(("INTEGER", "INT", "TINYINT", "SMALLINT", "MEDIUMINT", "BIGINT"), INTEGER),
    **dict.fromkeys(("REAL", "FLOAT", "DOUBLE", "DOUBLE PRECISION"), REAL),
    **dict.fromkeys(("NUMERIC", "DECIMAL"), DECIMAL),
    **dict.fromkeys(("TEXT", "VARCHAR", "CHAR", "CLOB"), TEXT),
    **dict.fromkeys(("BOOLEAN", "BOOL"), BOOLEAN),
    "DATE": DATE,
    "DATETIME": TIMESTAMP,
    "TIMESTAMP": TIMESTAMP,
    "TIME": TIMESTAMP,
    "BLOB": BLOB,
}

_LANE_CODES = {INTEGER: "i", REAL: "r", DECIMAL: "d", BOOLEAN: "b", DATE: "D", TEXT: "s"}


class SqliteTypes(TypeMap):
    def to_field(self, name: str, native: NativeType, *, key: bool = False) -> Field:
        kind = _KINDS.get(native.base, TEXT)
        if kind == DECIMAL:
            p, s = native.precision_scale
            return Field(name, DECIMAL, precision=p or 18, scale=2 if s is None else s, key=key)
        if native.base == "TIME":
            return Field(name, TIMESTAMP, subtype="time", key=key)
        if kind == TIMESTAMP:
            return Field(name, TIMESTAMP, timezone="UTC", key=key)
        if kind == TEXT:
            return Field(name, TEXT, length=native.length, key=key)
        return Field(name, kind, key=key)

    def to_column_type(self, field: Field) -> TypeEngine[Any]:
        kind = field.kind
        if field.is_time:
            return sa.TIME()
        if kind == INTEGER:
            return sa.INTEGER()
        if kind == REAL:
            return sa.REAL()
        if kind == DECIMAL:
            return sa.NUMERIC(field.precision or 18, 2 if field.scale is None else field.scale)
        if kind == BOOLEAN:
            return sa.BOOLEAN(create_constraint=False)
        if kind == DATE:
            return sa.DATE()
        if kind in DATE_KINDS:
            return sa.DATETIME()
        if kind == BLOB:
            return sa.BLOB()
        return sa.TEXT()

    def reader(self, field: Field, native: NativeType) -> Reader | None:
        if field.is_time:
            return convert.time_from_db
        return {
            DECIMAL: convert.to_decimal,
            BOOLEAN: convert.to_bool,
            DATE: convert.date_from_db,
            TIMESTAMP: convert.aware_from_db,
        }.get(field.kind)

    def cell_encoder(self, field: Field, native: NativeType) -> CellEncoder | None:
        """NUMERIC kept as REAL/INTEGER, 0/1 booleans and ISO text dates go to cell text
        without the Decimal, bool and datetime objects the readers would make."""
        return celltext.from_sqlite_storage(field)

    def cell_binder(self, field: Field, native: NativeType) -> CellBinder | None:
        """The text the binders below would make, straight from the packet's cells."""
        if field.is_time:
            return None
        return {
            DECIMAL: celltext.decimal_text,
            DATE: celltext.date_text,
            TIMESTAMP: celltext.utc_text,
        }.get(field.kind)

    def lane_code(self, field: Field, native: NativeType | None) -> str | None:
        """How the compiled import lane binds a column (``_sqliteinsert.c``): the forms
        :meth:`binder` makes (DECIMAL and DATE as their text, timestamps as UTC text,
        booleans as 0/1), or None for the typed path (times of day, binary)."""
        if field.is_time:
            return None
        if field.kind == TIMESTAMP:
            return "Z" if field.timezone else None
        return _LANE_CODES.get(field.kind)

    def binder(self, field: Field, native: NativeType) -> Binder | None:
        if field.is_time:
            return convert.time_to_text
        return {
            DECIMAL: convert.decimal_to_text,
            DATE: convert.date_to_text,
            TIMESTAMP: convert.datetime_to_utc_text,
        }.get(field.kind)
