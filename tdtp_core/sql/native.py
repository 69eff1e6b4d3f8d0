"""The compiled SQLite helpers (``_sqliterows.c``), when they were built and may run.

The module works on the SQLite handle of a stdlib ``sqlite3.Connection``, read from the
head of the connection object. It is used only when it was built against the SQLite
library the stdlib module uses and the handle names the same main database as the
connection itself says; otherwise (or without a C compiler at install time) the callers
take their pure-Python paths, which give the same results.
"""

from __future__ import annotations

import sqlite3
from types import ModuleType
from typing import Any

compiled: ModuleType | None
try:
    from tdtp_core.sql import _sqliterows as compiled
except ImportError:  # built without a C compiler or SQLite's headers
    compiled = None


def for_connection(conn: Any) -> ModuleType | None:
    """The compiled module if it may run on ``conn``, else None."""
    module = compiled
    if module is None or type(conn) is not sqlite3.Connection:
        return None
    if module.sqlite_version() != sqlite3.sqlite_version:
        return None
    main = next((row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"),
                None)
    return module if main is not None and module.handle_filename(conn) == main else None
