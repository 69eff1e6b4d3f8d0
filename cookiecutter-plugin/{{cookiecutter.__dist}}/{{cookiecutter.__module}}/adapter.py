"""The ``{{ cookiecutter.name }}`` database adapter: SQLite under the URL scheme
``{{ cookiecutter.name }}://`` (``{{ cookiecutter.name }}:///path/to/file.db``).

An example of a database plugin. ``tdtp_core.sql.SqlAdapter`` does the work:
reflection, TDTQL pushdown, batched export, imports in one transaction with the ledger
and the four strategies. A plugin says which SQLAlchemy dialect and driver to use, maps
the native types to TDTP fields and back, and gives its dialect's upsert. For your own
database, change those three.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeEngine
from tdtp_core.sql import (
    Binder,
    NativeType,
    Reader,
    SqlAdapter,
    TypeMap,
    convert,
    on_conflict,
)
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    REAL,
    TEXT,
    TIMESTAMP,
    Field,
)

#: Declared column type → TDTP type (SQLite keeps the declared name as written).
_KINDS = {
    **dict.fromkeys(("INTEGER", "INT", "BIGINT", "SMALLINT"), INTEGER),
    **dict.fromkeys(("REAL", "FLOAT", "DOUBLE", "DOUBLE PRECISION"), REAL),
    **dict.fromkeys(("NUMERIC", "DECIMAL"), DECIMAL),
    **dict.fromkeys(("BOOLEAN", "BOOL"), BOOLEAN),
    **dict.fromkeys(("DATETIME", "TIMESTAMP", "TIME"), TIMESTAMP),
    "DATE": DATE,
    "BLOB": BLOB,
}


class {{ cookiecutter.__class }}Types(TypeMap):
    """SQLite stores dates and times as ISO text in UTC, decimals as text: the readers
    and binders convert, so every TDTP value comes back exactly."""

    def to_field(self, name: str, native: NativeType, *, key: bool = False) -> Field:
        kind = _KINDS.get(native.base, TEXT)
        if kind == DECIMAL:
            precision, scale = native.precision_scale
            return Field(name, DECIMAL, precision=precision or 18, scale=scale or 0, key=key)
        if native.base == "TIME":
            return Field(name, TIMESTAMP, subtype="time", key=key)
        if kind == TIMESTAMP:
            return Field(name, TIMESTAMP, timezone="UTC", key=key)
        if kind == TEXT:
            return Field(name, TEXT, length=native.length, key=key)
        return Field(name, kind, key=key)

    def to_column_type(self, field: Field) -> TypeEngine[Any]:
        if field.is_time:
            return sa.TIME()
        if field.kind == DECIMAL:
            return sa.NUMERIC(field.precision or 18, field.scale or 0)
        return _COLUMN_TYPES.get(field.kind, sa.TEXT)()

    def reader(self, field: Field, native: NativeType) -> Reader | None:
        if field.is_time:
            return convert.time_from_db
        return _READERS.get(field.kind)

    def binder(self, field: Field, native: NativeType) -> Binder | None:
        if field.is_time:
            return convert.time_to_text
        return _BINDERS.get(field.kind)


_COLUMN_TYPES: dict[str, type[TypeEngine[Any]]] = {
    INTEGER: sa.INTEGER, REAL: sa.REAL, BOOLEAN: sa.BOOLEAN, DATE: sa.DATE,
    TIMESTAMP: sa.DATETIME, BLOB: sa.BLOB,
}
_READERS: dict[str, Reader] = {
    DECIMAL: convert.to_decimal, BOOLEAN: convert.to_bool, DATE: convert.date_from_db,
    TIMESTAMP: convert.aware_from_db,
}
_BINDERS: dict[str, Binder] = {
    DECIMAL: convert.decimal_to_text, DATE: convert.date_to_text,
    TIMESTAMP: convert.datetime_to_utc_text,
}


class {{ cookiecutter.__class }}(SqlAdapter):
    """``Cls(url)``: core builds one per URL whose scheme this plugin registered."""

    name: ClassVar[str] = "{{ cookiecutter.name }}"
    driver: ClassVar[str] = "pysqlite"
    #: The plugin's own scheme is SQLAlchemy's ``sqlite`` dialect.
    aliases: ClassVar[Mapping[str, str]] = {"{{ cookiecutter.name }}": "sqlite"}
    types = {{ cookiecutter.__class }}Types()

    def engine_options(self) -> dict[str, Any]:
        return {}

    def configure_engine(self, engine: Engine) -> None:
        """Let SQLAlchemy rather than the sqlite3 module open transactions, so DDL and
        the rows of an import share one transaction (SQLAlchemy's SQLite recipe)."""

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA busy_timeout = 5000")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    def _conflict_insert(self, table: sa.Table, columns: Sequence[str],
                         keys: Sequence[str], strategy: str) -> Any:
        """``INSERT … ON CONFLICT``: update the row (replace) or keep it (ignore)."""
        return on_conflict(sqlite_insert(table), columns, keys, strategy)
