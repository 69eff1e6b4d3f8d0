"""SQL Server ⇄ TDTP types (protocol §9.5); subtypes carry the exact native type.

Difference from the reference: a key column of an unbounded text or binary type is
created ``NVARCHAR(450)``/``VARBINARY(900)``, as SQL Server cannot index ``(MAX)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import mssql
from sqlalchemy.types import TypeEngine

from tdtp_core.sql import Binder, NativeType, Reader, TypeMap, convert
from tdtp_core.types import BLOB, BOOLEAN, DATE, DATE_KINDS, DECIMAL, INTEGER, REAL, Field

_INTEGERS = {"TINYINT": mssql.TINYINT, "SMALLINT": mssql.SMALLINT, "INT": mssql.INTEGER,
             "INTEGER": mssql.INTEGER, "BIGINT": mssql.BIGINT}
_CHARS = frozenset({"NVARCHAR", "VARCHAR", "NCHAR", "CHAR"})
_STAMPS = {"DATETIME2": mssql.DATETIME2, "DATETIME": mssql.DATETIME,
           "SMALLDATETIME": mssql.SMALLDATETIME, "DATETIMEOFFSET": mssql.DATETIMEOFFSET}


def rowversion_text(value: Any) -> str:
    """Upper-case hex without leading zeros, ``0`` when all zero (spec §3.5.1)."""
    return bytes(value).hex().upper().lstrip("0") or "0"


class MssqlTypes(TypeMap):
    def to_field(self, name: str, native: NativeType, *, key: bool = False) -> Field:
        base, sub = native.base, native.base.lower()
        if base in _INTEGERS:
            return Field(name, INTEGER, subtype=sub, key=key)
        if base in ("DECIMAL", "NUMERIC"):
            p, s = native.precision_scale
            return Field(name, DECIMAL, precision=p or 18, scale=s or 0, key=key)
        if base in ("MONEY", "SMALLMONEY"):
            p = 19 if base == "MONEY" else 10
            return Field(name, DECIMAL, precision=p, scale=4, subtype=sub, key=key)
        if base in ("FLOAT", "REAL"):
            return Field(name, REAL, subtype=sub, key=key)
        if base in _CHARS:
            return Field(name, "TEXT", length=native.length, subtype=sub, key=key)
        if base in ("TEXT", "NTEXT", "XML"):
            return Field(name, "TEXT", subtype=sub, key=key)
        if base == "BIT":
            return Field(name, BOOLEAN, key=key)
        if base == "DATE":
            return Field(name, DATE, key=key)
        if base == "TIME":
            return Field(name, "TEXT", subtype="time", key=key)
        if base in _STAMPS:
            zone = "UTC" if base == "DATETIMEOFFSET" else None
            return Field(name, "TIMESTAMP", subtype=sub, timezone=zone, key=key)
        if base == "UNIQUEIDENTIFIER":
            return Field(name, "TEXT", length=36, subtype=sub, key=key)
        if base in ("VARBINARY", "BINARY"):
            return Field(name, BLOB, length=native.length, subtype=sub, key=key)
        if base == "IMAGE":
            return Field(name, BLOB, subtype=sub, key=key)
        if base in ("TIMESTAMP", "ROWVERSION"):
            return Field(name, "TEXT", length=16, subtype="rowversion", readonly=True, key=key)
        if base == "SQL_VARIANT":
            return Field(name, "TEXT", length=8000, subtype=sub, key=key)
        return Field(name, "TEXT", length=255, subtype=sub or None, key=key)

    def to_column_type(self, field: Field) -> TypeEngine[Any]:
        sub = (field.subtype or "").lower()
        n = field.length if field.length and field.length > 0 else 0
        kind = field.kind
        if kind == INTEGER:
            return _INTEGERS.get(sub.upper(), mssql.BIGINT)()
        if kind == DECIMAL:
            if sub in ("money", "smallmoney"):
                return mssql.MONEY() if sub == "money" else mssql.SMALLMONEY()
            scale = 2 if field.scale is None or field.scale < 0 else field.scale
            return mssql.DECIMAL(field.precision or 18, scale)
        if kind == REAL:
            return mssql.REAL() if sub == "real" else mssql.FLOAT()
        if kind == BOOLEAN:
            return mssql.BIT()
        if kind == DATE:
            return mssql.DATE()
        if field.is_time:
            return mssql.TIME()
        if kind in DATE_KINDS:
            return _STAMPS.get(sub.upper(), mssql.DATETIME2)()
        if kind == BLOB:
            if sub == "binary":
                return mssql.BINARY(n if 0 < n <= 8000 else 255)
            limit = n if 0 < n <= 8000 else (900 if field.key else "max")
            return mssql.VARBINARY(limit)
        return _text_type(sub, n, field.key)

    def reader(self, field: Field, native: NativeType) -> Reader | None:
        sub = (field.subtype or "").lower()
        if sub == "rowversion":
            return rowversion_text
        if sub == "uniqueidentifier":
            return convert.to_text
        if field.is_time:
            return convert.time_from_db
        return None

    def binder(self, field: Field, native: NativeType) -> Binder | None:
        if field.kind == REAL:
            return convert.finite_or_none
        if field.kind == DECIMAL:
            return convert.decimal_finite_or_none
        return None


def _text_type(sub: str, n: int, key: bool) -> TypeEngine[Any]:
    named: dict[str, TypeEngine[Any]] = {
        "rowversion": mssql.ROWVERSION(), "sql_variant": mssql.SQL_VARIANT(),
        "uniqueidentifier": mssql.UNIQUEIDENTIFIER(as_uuid=False), "xml": mssql.XML(),
    }
    if sub in named:
        return named[sub]
    if sub == "varchar":
        return mssql.VARCHAR(n if 0 < n <= 8000 else (900 if key else "max"))
    if sub == "char":
        return mssql.CHAR(n if 0 < n <= 8000 else 255)
    if sub == "nchar":
        return mssql.NCHAR(n if 0 < n <= 4000 else 255)
    if sub in ("text", "ntext"):
        return mssql.NVARCHAR("max")
    return mssql.NVARCHAR(n if 0 < n <= 4000 else (450 if key else "max"))
