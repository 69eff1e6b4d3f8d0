"""The PostgreSQL adapter: psycopg 3, with ``COPY`` both ways.

Export streams ``COPY (SELECT …) TO STDOUT`` when the SELECT has no parameters (a
whole-table or ordered export); a filtered export binds its values and reads through
a server-side cursor instead, because COPY takes no parameters and literals are never
spliced into SQL (DECISIONS 11). Import ``COPY``s rows into the target (``fail``) or
into a temporary table that one ``INSERT … SELECT … ON CONFLICT`` applies
(``replace``, ``ignore``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from tdtp_adapter_postgres.types import TEXT_TYPES, PostgresTypes
from tdtp_core.sql import NativeType, Rows, SqlAdapter, TableMeta, on_conflict
from tdtp_core.types import TEXT, Field


class PostgresAdapter(SqlAdapter):
    name = "postgresql"
    driver = "psycopg"
    aliases: ClassVar[Mapping[str, str]] = {"postgres": "postgresql"}
    system_schemas = frozenset({"information_schema", "pg_catalog"})
    types = PostgresTypes()

    def engine_options(self) -> dict[str, Any]:
        return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}

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

    def _insert(self, conn: Connection, table: sa.Table, columns: Sequence[str],
                rows: Rows) -> None:
        prep = conn.dialect.identifier_preparer
        names = ", ".join(prep.quote(c) for c in columns)
        sql = f"COPY {prep.format_table(table)} ({names}) FROM STDIN"
        with _driver(conn).cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for batch in rows:
                for row in batch:
                    write(row)

    def _merge(self, conn: Connection, table: sa.Table, columns: Sequence[str],
               keys: Sequence[str], rows: Rows, strategy: str) -> None:
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
