"""The SQLite plugin: registration, a light hook module, and its type map both ways."""

from __future__ import annotations

import pytest
from tdtp_adapter_sqlite.adapter import SqliteAdapter
from tdtp_adapter_sqlite.types import SqliteTypes

from tdtp_core.plugins import get_host
from tdtp_core.sql import NativeType
from tdtp_core.testing.services import modules_loaded_by
from tdtp_core.types import Field

TYPES = SqliteTypes()


def test_sqlite_urls_get_this_adapter() -> None:
    assert isinstance(get_host().adapter_for_url("sqlite:///x.db"), SqliteAdapter)


def test_the_hook_module_imports_nothing_heavy() -> None:
    assert not modules_loaded_by("tdtp_adapter_sqlite") & {"sqlalchemy", "lxml"}


@pytest.mark.parametrize(("declared", "expected"), [
    ("INTEGER", Field("c", "INTEGER")),
    ("BIGINT", Field("c", "INTEGER")),
    ("DOUBLE", Field("c", "REAL")),
    ("NUMERIC(10,3)", Field("c", "DECIMAL", precision=10, scale=3)),
    ("DECIMAL", Field("c", "DECIMAL", precision=18, scale=2)),
    ("VARCHAR(20)", Field("c", "TEXT", length=20)),
    ("BOOLEAN", Field("c", "BOOLEAN")),
    ("DATE", Field("c", "DATE")),
    ("DATETIME", Field("c", "TIMESTAMP", timezone="UTC")),
    ("TIME", Field("c", "TIMESTAMP", subtype="time")),
    ("BLOB", Field("c", "BLOB")),
    ("", Field("c", "TEXT")),
    ("NVARCHAR(5)", Field("c", "TEXT", length=5)),
    ("MONEY", Field("c", "TEXT")),
])
def test_declared_types_map_to_tdtp(declared: str, expected: Field) -> None:
    assert TYPES.to_field("c", NativeType.parse(declared)) == expected


@pytest.mark.parametrize(("field", "ddl"), [
    (Field("c", "INTEGER"), "INTEGER"),
    (Field("c", "FLOAT"), "REAL"),
    (Field("c", "DECIMAL", precision=10, scale=3), "NUMERIC(10, 3)"),
    (Field("c", "DECIMAL"), "NUMERIC(18, 2)"),
    (Field("c", "VARCHAR", length=9), "TEXT"),
    (Field("c", "BOOL"), "BOOLEAN"),
    (Field("c", "DATE"), "DATE"),
    (Field("c", "DATETIME"), "DATETIME"),
    (Field("c", "TIMESTAMP", subtype="time"), "TIME"),
    (Field("c", "BLOB"), "BLOB"),
])
def test_tdtp_types_create_sqlite_columns(field: Field, ddl: str) -> None:
    from sqlalchemy.dialects import sqlite

    assert TYPES.to_column_type(field).compile(dialect=sqlite.dialect()) == ddl


def test_every_created_type_reads_back_as_itself() -> None:
    from sqlalchemy.dialects import sqlite

    for field in (Field("c", t) for t in ("INTEGER", "REAL", "TEXT", "BOOLEAN", "DATE", "BLOB")):
        declared = TYPES.to_column_type(field).compile(dialect=sqlite.dialect())
        assert TYPES.to_field("c", NativeType.parse(declared)).kind == field.kind
