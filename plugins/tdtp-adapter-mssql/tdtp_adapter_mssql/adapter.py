"""The Microsoft SQL Server adapter (pymssql).

``replace`` and ``ignore`` load a ``#temp`` staging table and apply one ``MERGE``
(with ``HOLDLOCK``, so concurrent imports cannot both insert a key); identity columns
get ``IDENTITY_INSERT`` for the load. Paging, tail mode and quoting come from
SQLAlchemy's ``mssql`` dialect (``TOP``, ``OFFSET … FETCH``, ``[name]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from tdtp_adapter_mssql.types import MssqlTypes
from tdtp_core.sql import Rows, SqlAdapter


class MssqlAdapter(SqlAdapter):
    name = "mssql"
    driver = "pymssql"
    system_schemas = frozenset({"sys", "information_schema", "guest"} | {
        f"db_{role}" for role in ("accessadmin", "backupoperator", "datareader", "datawriter",
                                  "ddladmin", "denydatareader", "denydatawriter", "owner",
                                  "securityadmin")})
    staging_name = "#tdtp_stage_"
    staging_prefixes = ()
    types = MssqlTypes()

    def engine_options(self) -> dict[str, Any]:
        return {"pool_pre_ping": True, "connect_args": {"login_timeout": 10}}

    def _insert(self, conn: Connection, table: sa.Table, columns: Sequence[str],
                rows: Rows) -> None:
        with _IdentityInsert(conn, table, columns):
            super()._insert(conn, table, columns, rows)

    def _merge(self, conn: Connection, table: sa.Table, columns: Sequence[str],
               keys: Sequence[str], rows: Rows, strategy: str) -> None:
        stage = self._create_staging(conn, table, columns)
        super()._insert(conn, stage, columns, rows)
        with _IdentityInsert(conn, table, columns):
            conn.exec_driver_sql(merge_sql(conn.dialect, table, stage.name, columns, keys,
                                           strategy))
        stage.drop(conn)


def merge_sql(dialect: Dialect, table: sa.Table, stage: str, columns: Sequence[str],
              keys: Sequence[str], strategy: str) -> str:
    """``MERGE`` the staging table into ``table``: update (replace) or skip (ignore)."""
    q = dialect.identifier_preparer.quote
    cols = ", ".join(q(c) for c in columns)
    on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in keys)
    sql = (f"MERGE INTO {dialect.identifier_preparer.format_table(table)} WITH (HOLDLOCK) AS t "
           f"USING (SELECT {cols} FROM {q(stage)}) AS s ON {on}")
    updates = [c for c in columns if c not in keys]
    if strategy == "replace" and updates:
        sql += " WHEN MATCHED THEN UPDATE SET " + ", ".join(
            f"t.{q(c)} = s.{q(c)}" for c in updates)
    values = ", ".join(f"s.{q(c)}" for c in columns)
    return sql + f" WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values});"


class _IdentityInsert:
    """``SET IDENTITY_INSERT t ON`` while rows with explicit identity values go in."""

    def __init__(self, conn: Connection, table: sa.Table, columns: Sequence[str]) -> None:
        self.conn = conn
        self.name = conn.dialect.identifier_preparer.format_table(table)
        self.active = any(
            c.name in columns and c.identity is not None for c in table.columns
        ) and not table.name.startswith("#")

    def __enter__(self) -> None:
        if self.active:
            self.conn.exec_driver_sql(f"SET IDENTITY_INSERT {self.name} ON")

    def __exit__(self, *exc: object) -> None:
        if self.active:
            self.conn.exec_driver_sql(f"SET IDENTITY_INSERT {self.name} OFF")
