"""The MySQL and MariaDB adapter (PyMySQL).

Sessions run in UTC (``time_zone = '+00:00'``) with ``utf8mb4``. Rows go in through
``executemany``, which PyMySQL turns into multi-row INSERTs; ``replace`` is
``ON DUPLICATE KEY UPDATE``. ``ignore`` is a no-op ``ON DUPLICATE KEY UPDATE`` rather
than ``INSERT IGNORE``: IGNORE also turns truncation and NOT NULL errors into warnings,
which would let bad rows in silently. MySQL commits on DDL, so a table we create is
created just before the import transaction, never inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.engine import Connection

from tdtp_adapter_mysql.types import MysqlTypes
from tdtp_core.sql import SqlAdapter


class MysqlAdapter(SqlAdapter):
    name = "mysql"
    driver = "pymysql"
    transactional_ddl = False
    types = MysqlTypes()

    def engine_options(self) -> dict[str, Any]:
        return {
            "pool_pre_ping": True,
            "pool_recycle": 3600,
            "connect_args": {
                "charset": "utf8mb4",
                "connect_timeout": 10,
                "init_command": "SET time_zone = '+00:00'",
            },
        }

    def create_options(self) -> dict[str, Any]:
        dialect = self.engine.dialect
        if getattr(dialect, "is_mariadb", False):
            collation = "utf8mb4_nopad_bin"
        elif (dialect.server_version_info or (0,)) >= (8,):
            collation = "utf8mb4_0900_bin"
        else:
            collation = "utf8mb4_bin"
        return {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                "mysql_collate": collation}

    def _begin_read_only(self, conn: Connection) -> None:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    def _conflict_insert(self, table: sa.Table, columns: Sequence[str],
                         keys: Sequence[str], strategy: str) -> Any:
        stmt = mysql_insert(table)
        updates = {c: stmt.inserted[c] for c in columns if c not in keys}
        if strategy == "ignore" or not updates:
            return stmt.on_duplicate_key_update({keys[0]: table.c[keys[0]]})
        return stmt.on_duplicate_key_update(updates)
