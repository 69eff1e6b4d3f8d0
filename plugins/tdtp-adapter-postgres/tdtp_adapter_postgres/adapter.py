"""The PostgreSQL adapter: psycopg 3, with ``COPY`` both ways.

Export streams ``COPY (SELECT …) TO STDOUT`` when the SELECT has no parameters (a
whole-table or ordered export); a filtered export binds its values and reads through
a server-side cursor instead, because COPY takes no parameters and literals are never
spliced into SQL (DECISIONS 11). Into a packet, COPY's text goes to packet rows in bulk
string operations (:mod:`~tdtp_adapter_postgres.copyout`), never through Python values.
Import ``COPY``s rows into the target (``fail``) or into a temporary table that one
``INSERT … SELECT … ON CONFLICT`` applies (``replace``, ``ignore``); into an empty
target those two ``COPY`` straight in, keeping a spool of what was sent in case a key
repeats (then the spool is replayed the staging way). Batches become COPY text in the
import's worker processes (:mod:`~tdtp_adapter_postgres.copyin`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain, islice
from typing import IO, Any, ClassVar

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from tdtp_adapter_postgres.copyin import copy_text
from tdtp_adapter_postgres.copyout import CopyRows, copy_out, lane_expression
from tdtp_adapter_postgres.types import TEXT_TYPES, PostgresTypes
from tdtp_core.packet.encode import RowEncoder
from tdtp_core.sql import NativeType, Rows, SqlAdapter, TableMeta, bulktext, on_conflict
from tdtp_core.sql.checks import WritePlan
from tdtp_core.stream import EncodedRows
from tdtp_core.types import TEXT, Field


class PostgresAdapter(SqlAdapter):
    name = "postgresql"
    driver = "psycopg"
    aliases: ClassVar[Mapping[str, str]] = {"postgres": "postgresql"}
    system_schemas = frozenset({"information_schema", "pg_catalog"})
    types = PostgresTypes()
    pack_in_workers = True

    def engine_options(self) -> dict[str, Any]:
        return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}

    def configure_engine(self, engine: sa.Engine) -> None:
        """Sessions run in UTC, whatever the server's or ``PGTZ``'s zone: ``timestamptz``
        values arrive as UTC instants, and one at 9999-12-31 23:59 UTC is not pushed past
        the year 9999 (which Python cannot hold) by a zone east of UTC."""

        @sa.event.listens_for(engine, "connect")
        def _utc(dbapi_connection: Any, record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'UTC'")
            dbapi_connection.commit()

    # ------------------------------------------------------------------ export

    def _column_expression(
        self, column: sa.Column[Any], field: Field, native: NativeType
    ) -> sa.ColumnElement[Any]:
        """UUID, JSON, network, array and other non-core types travel as their text, as
        PostgreSQL prints them (and as COPY does; ``inet::text`` alone would add ``/32``)."""
        if native.base == "INET":
            return sa.func.abbrev(column)
        if field.kind == TEXT and native.base not in TEXT_TYPES:
            return sa.cast(column, sa.TEXT)
        return super()._column_expression(column, field, native)

    def _fetch(
        self, conn: Connection, meta: TableMeta, select: sa.Select[Any], batch_size: int
    ) -> Iterator[Sequence[Sequence[Any]]]:
        compiled = select.compile(dialect=conn.dialect)
        sql = str(compiled)
        if compiled.params or "%" in sql:
            yield from super()._fetch(conn, meta, select, batch_size)
            return
        cursor = _driver(conn).cursor()
        try:
            cursor.execute(f"SELECT * FROM ({sql}) AS tdtp_q LIMIT 0")
            oids = [d.type_code for d in cursor.description or ()]
            with cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
                copy.set_types(oids)
                rows = copy.rows()
                while batch := list(islice(rows, batch_size)):
                    yield batch
        finally:
            cursor.close()

    def _encoded(self, meta: TableMeta, select: sa.Select[Any], batch_size: int,
                 replace_invalid: bool, *, whole: bool) -> Iterator[EncodedRows]:
        """COPY text to packet rows when the SELECT binds nothing, every column has a
        place in the lane and the server prints floats shortest-exact (12+); else the
        base lane over typed COPY rows. One process: the server already works on the
        other core, and a worker's pickling would cost what it saves."""
        sql = self._lane_sql(meta, select)
        if sql is None:
            yield from super()._encoded(meta, select, batch_size, replace_invalid,
                                        whole=whole)
            return
        nullable = [bool(c.nullable) and not c.primary_key for c in meta.columns]
        convert = CopyRows(meta.name, meta.fields, nullable,
                           RowEncoder(meta.fields, meta.name, replace_invalid=replace_invalid))
        with self._errors(f"read table {meta.name!r}"), self.engine.connect() as conn:
            conn.exec_driver_sql("SET LOCAL datestyle = 'ISO'")
            conn.exec_driver_sql("SET LOCAL extra_float_digits = 1")
            conn.exec_driver_sql("SET LOCAL client_encoding = 'UTF8'")
            first = 0
            for chunk in copy_out(_driver(conn), f"COPY ({sql}) TO STDOUT", batch_size):
                encoded = convert(chunk, first)
                first += len(encoded)
                yield encoded

    def _lane_sql(self, meta: TableMeta, select: sa.Select[Any]) -> str | None:
        """The SELECT whose COPY text is the packet's cell text, or None."""
        dialect = self.engine.dialect
        if (dialect.server_version_info or (0,)) < (12,):
            return None
        compiled = select.compile(dialect=dialect)
        inner = str(compiled)
        if compiled.params or "%" in inner:
            return None
        quote = dialect.identifier_preparer.quote
        columns = [lane_expression(quote(c.name), f, n.base, scale_declared=bool(n.params))
                   for c, f, n in zip(meta.columns, meta.fields, meta.natives, strict=True)]
        if any(c is None for c in columns):
            return None
        return f"SELECT {', '.join(map(str, columns))} FROM ({inner}) AS tdtp_q"

    def _begin_read_only(self, conn: Connection) -> None:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    def _describe(self, conn: Connection, description: Any) -> list[Field | None]:
        registry = _driver(conn).adapters.types
        fields: list[Field | None] = []
        for column in description or ():
            info = registry.get(column.type_code)
            if info is None:
                fields.append(None)
                continue
            params = ""
            if info.name == "numeric" and column.precision:
                params = f"({column.precision},{column.scale or 0})"
            native = NativeType.parse(info.name + ("[]" if info.name.startswith("_") else "")
                                      + params)
            fields.append(self.types.to_field(column.name, native))
        return fields

    # ------------------------------------------------------------------ import

    def _pack(self, columns: list[Sequence[Any]]) -> bytes:
        """A batch as COPY text (made in the import's worker processes)."""
        return copy_text(columns)

    def _row_lane(self, conn: Connection, meta: TableMeta,
                  plan: WritePlan) -> bulktext.CopyTextLane | None:
        """Packet row strings written as COPY text in C (:mod:`tdtp_core.sql.bulktext`)
        when every column reads its cells as the typed path's values."""
        codes = [self.types.lane_code(c.dst, c.native) for c in plan.columns]
        return bulktext.lane_for(plan, codes, self._pack)

    def _insert(self, conn: Connection, table: sa.Table, columns: Sequence[str],
                rows: Rows) -> None:
        prep = conn.dialect.identifier_preparer
        names = ", ".join(prep.quote(c) for c in columns)
        sql = f"COPY {prep.format_table(table)} ({names}) FROM STDIN"
        with _driver(conn).cursor() as cursor, cursor.copy(sql) as copy:
            for chunk in rows:
                copy.write(chunk)

    def _merge(self, conn: Connection, table: sa.Table, columns: Sequence[str],
               keys: Sequence[str], rows: Rows, strategy: str) -> None:
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None:
            again = self._copy_into_empty(conn, table, columns, rows)
            if again is None:
                return
            rows = again
        stage = self._create_staging(conn, table, columns)
        self._insert(conn, stage, columns, rows)
        source = sa.select(*(stage.c[c] for c in columns))
        if strategy == "replace":  # the last row of a key wins, as with row-by-row upserts
            key_columns = [stage.c[k] for k in keys]
            source = _distinct_on(source, key_columns).order_by(
                *key_columns, sa.literal_column("ctid").desc())
        conn.execute(on_conflict(pg_insert(table).from_select(list(columns), source),
                                 columns, keys, strategy))
        stage.drop(conn)


    def _copy_into_empty(self, conn: Connection, table: sa.Table, columns: Sequence[str],
                         rows: Rows) -> Rows | None:
        """COPY straight into an empty target (what ``replace`` and ``ignore`` give when
        no key repeats); None when done, else the rows again for the staging way."""
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _replay or below
        savepoint = conn.begin_nested()
        try:
            self._insert(conn, table, columns, _tee(rows, spool))
        except psycopg.errors.UniqueViolation:  # raw driver COPY: psycopg's own error
            savepoint.rollback()
            return chain(_replay(spool), rows)
        except BaseException:
            spool.close()
            raise
        savepoint.commit()
        spool.close()
        return None


def _tee(chunks: Rows, spool: IO[bytes]) -> Iterator[bytes]:
    """Pass COPY chunks on, keeping each in ``spool`` (length-prefixed)."""
    for chunk in chunks:
        spool.write(len(chunk).to_bytes(8, "little"))
        spool.write(chunk)
        yield chunk


def _replay(spool: IO[bytes]) -> Iterator[bytes]:
    """The chunks :func:`_tee` kept, in order; closes the spool."""
    with spool:
        spool.seek(0)
        while size := spool.read(8):
            yield spool.read(int.from_bytes(size, "little"))


def _distinct_on(select: sa.Select[Any], columns: list[sa.Column[Any]]) -> sa.Select[Any]:
    """``SELECT DISTINCT ON (columns)``, spelled as the installed SQLAlchemy wants it."""
    try:
        from sqlalchemy.dialects.postgresql import distinct_on
    except ImportError:  # SQLAlchemy 2.0
        return select.distinct(*columns)
    return select.ext(distinct_on(*columns))


def _driver(conn: Connection) -> Any:
    """The psycopg connection under a SQLAlchemy connection (same transaction)."""
    return conn.connection.driver_connection
