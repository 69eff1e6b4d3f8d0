"""The shared SQL layer database plugins build on (design §2, framework §3)."""

from __future__ import annotations

from tdtp_core.sql.adapter import Rows, SqlAdapter, TableMeta
from tdtp_core.sql.ledger import LEDGER_TABLE
from tdtp_core.sql.statements import STRATEGIES, on_conflict
from tdtp_core.sql.typemap import Binder, NativeType, Reader, TypeMap
from tdtp_core.sql.urls import dialect_of, mask_url, split_table_name

__all__ = [
    "LEDGER_TABLE",
    "STRATEGIES",
    "Binder",
    "NativeType",
    "Reader",
    "Rows",
    "SqlAdapter",
    "TableMeta",
    "TypeMap",
    "dialect_of",
    "mask_url",
    "on_conflict",
    "split_table_name",
]
