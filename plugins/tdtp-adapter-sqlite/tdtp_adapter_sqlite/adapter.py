"""The SQLite adapter: stdlib ``sqlite3`` through SQLAlchemy, the embedded default.

Transactions are issued explicitly (the driver's own implicit transactions would
commit DDL on its own and start too late); an import begins with ``BEGIN IMMEDIATE``
so a second writer waits for the lock (``busy_timeout``, set before WAL, §12.15)
instead of failing half-way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from tdtp_adapter_sqlite.types import SqliteTypes
from tdtp_core.sql import SqlAdapter, on_conflict
from tdtp_core.tdtql.sql import sqlite_case_sensitive_like

_PRAGMAS = (
    "PRAGMA busy_timeout = 5000",  # first: switching to WAL needs the write lock
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA cache_size = -64000",
    "PRAGMA temp_store = MEMORY",
)


class SqliteAdapter(SqlAdapter):
    name = "sqlite"
    driver = "pysqlite"
    types = SqliteTypes()

    def engine_options(self) -> dict[str, Any]:
        return {}

    def configure_engine(self, engine: Engine) -> None:
        in_memory = self.sa_url.database in (None, "", ":memory:")
        pragmas = _PRAGMAS if not in_memory else (_PRAGMAS[0],)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we say BEGIN ourselves
            cursor = dbapi_connection.cursor()
            for pragma in pragmas:
                cursor.execute(pragma)
            cursor.close()
            sqlite_case_sensitive_like(dbapi_connection, _record)  # TDTQL LIKE semantics

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("tdtp_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    @contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn.execution_options(tdtp_write=True)

    def _native_types(self, conn: Connection, table: sa.Table) -> list[str]:
        """The declared types exactly as written in CREATE TABLE (``PRAGMA table_info``)."""
        quote = conn.dialect.identifier_preparer.quote
        prefix = f"{quote(table.schema)}." if table.schema else ""
        rows = conn.exec_driver_sql(f"PRAGMA {prefix}table_info({quote(table.name)})")
        return [str(row[2] or "") for row in rows]

    def _conflict_insert(self, table: sa.Table, columns: Sequence[str],
                         keys: Sequence[str], strategy: str) -> Any:
        return on_conflict(sqlite_insert(table), columns, keys, strategy)
