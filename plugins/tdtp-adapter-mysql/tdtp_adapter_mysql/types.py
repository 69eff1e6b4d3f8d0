"""MySQL/MariaDB ⇄ TDTP types (protocol §9.4).

Deliberate differences from the reference, for exact round trips: REAL creates
``DOUBLE`` (``FLOAT`` only for fields typed FLOAT); timestamps create ``DATETIME(6)``
(microseconds kept, §12.10, and the full year range, which ``TIMESTAMP`` lacks);
BLOB creates ``LONGBLOB`` and unbounded TEXT ``LONGTEXT`` (nothing truncated); a key
column of a text or binary type becomes ``VARCHAR(255)``/``VARBINARY(255)`` (MySQL
cannot index unbounded types). ``TIME``, ``YEAR``, ``BIT``, ``JSON``, ``ENUM`` and
``SET`` are read (as a time of day, INTEGER, INTEGER, TEXT) instead of refused.

MySQL has no date-time type with a zone and the full year range, so a field with a
``timezone`` (UTC instants) creates a ``DATETIME(6)`` holding UTC (sessions run in UTC)
whose column comment says so (``tdtp:timezone=UTC``); such a column reads back as that
field, with aware UTC values, where a plain ``DATETIME`` reads as naive date-times.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

from tdtp_core.sql import Binder, NativeType, Reader, TypeMap, convert
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DATE_KINDS,
    DECIMAL,
    INTEGER,
    REAL,
    TEXT,
    Field,
)

_INTEGERS = frozenset({"TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "YEAR"})
_TEXT_LENGTHS = {"TINYTEXT": 255, "TEXT": 65535, "MEDIUMTEXT": 16777215,
                 "LONGTEXT": 2147483647}
_BLOBS = frozenset({"BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY"})
#: Longest VARCHAR a utf8mb4 row can hold; longer texts become LONGTEXT.
MAX_VARCHAR = 16383
#: Start of the column comment that records a date-time field's zone.
ZONE_COMMENT: Final = "tdtp:timezone="


def _bit_to_int(value: Any) -> int:
    return int.from_bytes(value, "big") if isinstance(value, bytes) else int(value)


class MysqlTypes(TypeMap):
    def to_field(self, name: str, native: NativeType, *, key: bool = False) -> Field:
        base = native.base.replace(" UNSIGNED", "").replace(" ZEROFILL", "")
        if base in ("BOOLEAN", "BOOL") or (base == "TINYINT" and native.params == (1,)):
            return Field(name, BOOLEAN, key=key)
        if base in _INTEGERS or base == "BIT":
            return Field(name, INTEGER, length=native.length, subtype=base.lower(), key=key)
        if base in ("FLOAT", "DOUBLE", "REAL", "DOUBLE PRECISION"):
            return Field(name, "FLOAT" if base == "FLOAT" else "DOUBLE", key=key)
        if base in ("DECIMAL", "NUMERIC"):
            p, s = native.precision_scale
            return Field(name, DECIMAL, precision=p or 18, scale=2 if p is None else s, key=key)
        if base == "CHAR":
            return Field(name, "CHAR", length=native.length or 1, key=key)
        if base == "VARCHAR":
            return Field(name, "VARCHAR", length=native.length or 255, key=key)
        if base in _TEXT_LENGTHS:
            return Field(name, TEXT, length=_TEXT_LENGTHS[base], key=key)
        if base == "DATE":
            return Field(name, DATE, key=key)
        if base == "DATETIME":
            return Field(name, "DATETIME", key=key)
        if base == "TIMESTAMP":
            return Field(name, "TIMESTAMP", timezone="UTC", key=key)
        if base == "TIME":
            return Field(name, "TIMESTAMP", subtype="time", key=key)
        if base in _BLOBS:
            return Field(name, BLOB, key=key)
        return Field(name, TEXT, subtype=base.lower().split()[0] if base else None, key=key)

    def to_column_type(self, field: Field) -> TypeEngine[Any]:
        kind, type_name = field.kind, field.type.upper()
        length = field.length if field.length and field.length > 0 else 0
        if field.is_time:
            return mysql.TIME(fsp=6)
        if kind == INTEGER:
            small = 0 < length <= 4 or (field.subtype or "").lower() in ("tinyint", "smallint")
            return mysql.INTEGER() if small else mysql.BIGINT()
        if kind == REAL:
            return mysql.FLOAT() if type_name == "FLOAT" else mysql.DOUBLE()
        if kind == DECIMAL:
            return mysql.DECIMAL(field.precision or 18, 2 if field.scale is None else field.scale)
        if kind == BOOLEAN:
            return mysql.TINYINT(1)
        if kind == DATE:
            return mysql.DATE()
        if kind in DATE_KINDS:
            return mysql.DATETIME(fsp=6)
        if kind == BLOB:
            return mysql.VARBINARY(255) if field.key else mysql.LONGBLOB()
        if type_name == "CHAR":
            return mysql.CHAR(length or 1)
        if type_name in ("VARCHAR", "STRING") or field.key:
            return mysql.VARCHAR(min(length or 255, MAX_VARCHAR))
        if 0 < length <= MAX_VARCHAR:
            return mysql.VARCHAR(length)
        return mysql.LONGTEXT()

    def column_comment(self, field: Field) -> str | None:
        """``tdtp:timezone=UTC`` on the ``DATETIME(6)`` of a zoned field."""
        if _zoned_datetime(field):
            return f"{ZONE_COMMENT}{field.timezone}"
        return None

    def annotate(self, field: Field, comment: str | None) -> Field:
        """A ``DATETIME`` commented ``tdtp:timezone=…`` gets that zone back."""
        if comment and comment.startswith(ZONE_COMMENT) and field.type == "DATETIME":
            return field.replace(timezone=comment.removeprefix(ZONE_COMMENT))
        return field

    def reader(self, field: Field, native: NativeType) -> Reader | None:
        if field.is_time:
            return convert.time_from_db
        if field.subtype == "bit":
            return _bit_to_int
        if field.kind == BOOLEAN:
            return convert.to_bool
        if field.kind == DATE:
            return convert.date_from_db
        if field.kind in DATE_KINDS:
            return convert.aware_from_db if field.timezone else convert.naive_from_db
        return None

    def binder(self, field: Field, native: NativeType) -> Binder | None:
        if field.kind == REAL:
            return convert.finite_or_none
        if field.kind == DECIMAL:
            return convert.decimal_finite_or_none
        if field.kind in DATE_KINDS and field.kind != DATE and not field.is_time:
            return convert.datetime_to_naive_utc
        return None


def _zoned_datetime(field: Field) -> bool:
    return bool(field.timezone) and field.kind in DATE_KINDS and field.kind != DATE \
        and not field.is_time
