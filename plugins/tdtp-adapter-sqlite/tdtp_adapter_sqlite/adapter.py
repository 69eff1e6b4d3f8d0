"""The SQLite adapter: stdlib ``sqlite3`` through SQLAlchemy, the embedded default.

Transactions are issued explicitly (the driver's own implicit transactions would
commit DDL on its own and start too late); an import begins with ``BEGIN IMMEDIATE``
so a second writer waits for the lock (``busy_timeout``, set before WAL, §12.15)
instead of failing half-way.

A whole-table export of a database file is split into ``rowid`` ranges read by worker
processes; they all read one snapshot because the parent holds the write lock until
each of them has started its read transaction (a WAL reader keeps the state it first
saw).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from tdtp_adapter_sqlite.types import SqliteTypes
from tdtp_core.sql import SqlAdapter, TableMeta, on_conflict, rowinsert, rowtext
from tdtp_core.sql.checks import WritePlan
from tdtp_core.sql.lanes import PacketRows
from tdtp_core.stream import EncodedRows
from tdtp_core.tdtql.sql import sqlite_case_sensitive_like

_PRAGMAS = (
    "PRAGMA busy_timeout = 5000",  # first: switching to WAL needs the write lock
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA temp_store = MEMORY",
)
#: Page cache per transaction kind: index pages for imports; a table scan reuses
#: nothing, and the cache counts against the export's memory bound.
_WRITE_CACHE = "PRAGMA cache_size = -32000"
_READ_CACHE = "PRAGMA cache_size = -2000"


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
            conn.exec_driver_sql(_WRITE_CACHE if write else _READ_CACHE)
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

    def _fetch(
        self, conn: Connection, meta: TableMeta, select: sa.Select[Any], batch_size: int
    ) -> Iterator[Sequence[Sequence[Any]]]:
        """Rows straight from the sqlite3 cursor: SQLAlchemy's row objects cost more than
        the fetch itself, and pysqlite never reads ahead, so nothing is skipped."""
        result = conn.execute(select)
        cursor = result.cursor
        while rows := cursor.fetchmany(batch_size):
            yield rows

    def _encode_select(self, conn: Connection, meta: TableMeta, select: sa.Select[Any],
                       make: PacketRows, batch_size: int,
                       first_row: int) -> Iterator[EncodedRows]:
        """Rows rendered as packet text in C (:mod:`tdtp_core.sql.rowtext`) when the
        compiled module can take the statement, else the typed lane."""
        statement = _plain_statement(select, conn.dialect)
        batches = None if statement is None else rowtext.encoded_batches(
            conn.connection.driver_connection, statement[0], statement[1], meta.fields, make,
            batch_size, first_row)
        if batches is None:
            return super()._encode_select(conn, meta, select, make, batch_size, first_row)
        return batches

    def _row_lane(self, conn: Connection, meta: TableMeta,
                  plan: WritePlan) -> rowinsert.SqliteRowLane | None:
        """Packet row strings bound and inserted in C (:mod:`tdtp_core.sql.rowinsert`)
        when every column binds in a form the compiled module makes."""
        codes = [self.types.lane_code(c.dst, c.native) for c in plan.columns]
        return rowinsert.lane_for(conn.connection.driver_connection, plan, codes, self._pack)

    def _partitions(self, conn: Connection, meta: TableMeta, batch_size: int,
                    min_rows: int) -> list[sa.ColumnElement[bool]]:
        """``rowid`` ranges: the order a table scan of a rowid table reads in."""
        database = self.sa_url.database or ""
        if meta.is_view or database == ":memory:" or not Path(database).is_file():
            return []
        taken = {c.name.lower() for c in meta.table.columns}
        alias = next((a for a in ("rowid", "_rowid_", "oid") if a not in taken), None)
        if alias is None:
            return []
        prep = conn.dialect.identifier_preparer
        try:
            low, high, count = conn.exec_driver_sql(
                f"SELECT min({alias}), max({alias}), count(*) "
                f"FROM {prep.format_table(meta.table)}").one()
        except sa.exc.DBAPIError:  # WITHOUT ROWID
            return []
        if count < min_rows:
            return []
        tasks = max(1, count // batch_size)
        step = (high - low) // tasks + 1
        rowid: sa.ColumnElement[int] = sa.literal_column(alias)
        return [sa.and_(rowid >= low + k * step, rowid < low + (k + 1) * step)
                for k in range(tasks)]

    def _anchor_snapshot(self, conn: Connection) -> str | None:
        """Take the write lock (no commit can land) until the workers have started."""
        try:
            conn.execution_options(tdtp_write=True).begin()
        except sa.exc.DBAPIError:  # busy, or a read-only file: one process reads
            return None
        return "write lock"

    def _join_snapshot(self, conn: Connection, token: str) -> None:
        conn.begin()
        conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()

    def _conflict_insert(self, table: sa.Table, columns: Sequence[str],
                         keys: Sequence[str], strategy: str) -> Any:
        return on_conflict(sqlite_insert(table), columns, keys, strategy)


def _plain_statement(select: sa.Select[Any], dialect: Any) -> tuple[str, list[Any]] | None:
    """The SQL and positional parameters of ``select`` when no parameter needs its type's
    bind processing (then the driver would receive them as they are), else None."""
    compiled = select.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = compiled.construct_params()
    params = []
    for name in compiled.positiontup or ():
        bind = compiled.binds.get(name)
        if name not in values or (
                bind is not None and bind.type.bind_processor(dialect) is not None):
            return None
        params.append(values[name])
    return str(compiled), params
