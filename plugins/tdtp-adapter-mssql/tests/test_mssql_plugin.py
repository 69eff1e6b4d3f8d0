"""The SQL Server plugin without a server: types, DDL, MERGE and pushdown as compiled by
SQLAlchemy's ``mssql`` dialect. ``TDTP_TEST_MSSQL_URL`` enables the live test."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateTable
from tdtp_adapter_mssql.adapter import MssqlAdapter, merge_sql
from tdtp_adapter_mssql.types import MssqlTypes, rowversion_text

from tdtp_core.plugins import get_host
from tdtp_core.sql import NativeType
from tdtp_core.stream import TableStream
from tdtp_core.tdtql import parse
from tdtp_core.testing import services
from tdtp_core.testing.services import TableJanitor, modules_loaded_by
from tdtp_core.types import Field, Schema

TYPES = MssqlTypes()
DIALECT = mssql.dialect()
SERVER_2019 = mssql.dialect()
SERVER_2019.server_version_info = (15, 0)
SERVER_2019._setup_version_attributes()  # what connecting to SQL Server 2019 sets up
mssql_url = services.mssql_url
tables = services.tables


def _table(schema: Schema, name: str = "Orders") -> sa.Table:
    adapter = MssqlAdapter("mssql://h/db")
    return sa.Table(name, sa.MetaData(), *(
        sa.Column(f.name, TYPES.to_column_type(f), primary_key=f.key, nullable=not f.key,
                  autoincrement=False) for f in schema), **adapter.create_options())


def test_mssql_urls_get_this_adapter_with_pymssql() -> None:
    adapter = get_host().adapter_for_url("mssql://sa:pw@h/db")
    assert isinstance(adapter, MssqlAdapter) and adapter.sa_url.drivername == "mssql+pymssql"


def test_the_hook_module_imports_nothing_heavy() -> None:
    assert not modules_loaded_by("tdtp_adapter_mssql") & {"sqlalchemy", "pymssql"}


@pytest.mark.parametrize(("native", "expected"), [
    ("INTEGER", Field("c", "INTEGER", subtype="integer")),
    ("TINYINT", Field("c", "INTEGER", subtype="tinyint")),
    ("DECIMAL(10, 3)", Field("c", "DECIMAL", precision=10, scale=3)),
    ("MONEY", Field("c", "DECIMAL", precision=19, scale=4, subtype="money")),
    ("NVARCHAR(50)", Field("c", "TEXT", length=50, subtype="nvarchar")),
    ("NVARCHAR(max)", Field("c", "TEXT", subtype="nvarchar")),
    ("BIT", Field("c", "BOOLEAN")),
    ("TIME", Field("c", "TEXT", subtype="time")),
    ("DATETIMEOFFSET", Field("c", "TIMESTAMP", subtype="datetimeoffset", timezone="UTC")),
    ("UNIQUEIDENTIFIER", Field("c", "TEXT", length=36, subtype="uniqueidentifier")),
    ("VARBINARY(max)", Field("c", "BLOB", subtype="varbinary")),
    ("ROWVERSION", Field("c", "TEXT", length=16, subtype="rowversion", readonly=True)),
    ("GEOGRAPHY", Field("c", "TEXT", length=255, subtype="geography")),
])
def test_native_types_map_to_tdtp(native: str, expected: Field) -> None:
    assert TYPES.to_field("c", NativeType.parse(native)) == expected


@pytest.mark.parametrize(("field", "ddl"), [
    (Field("c", "INTEGER"), "BIGINT"),
    (Field("c", "INTEGER", subtype="smallint"), "SMALLINT"),
    (Field("c", "DECIMAL", precision=19, scale=4, subtype="money"), "MONEY"),
    (Field("c", "REAL", subtype="real"), "REAL"),
    (Field("c", "REAL"), "FLOAT"),
    (Field("c", "TEXT"), "NVARCHAR(max)"),
    (Field("c", "TEXT", length=40), "NVARCHAR(40)"),
    (Field("c", "TEXT", key=True), "NVARCHAR(450)"),
    (Field("c", "TEXT", subtype="uniqueidentifier"), "UNIQUEIDENTIFIER"),
    (Field("c", "BOOLEAN"), "BIT"),
    (Field("c", "TIMESTAMP"), "DATETIME2"),
    (Field("c", "TIMESTAMP", subtype="datetimeoffset"), "DATETIMEOFFSET"),
    (Field("c", "TEXT", subtype="time"), "TIME"),
    (Field("c", "BLOB"), "VARBINARY(max)"),
])
def test_tdtp_types_create_mssql_columns(field: Field, ddl: str) -> None:
    assert TYPES.to_column_type(field).compile(dialect=DIALECT) == ddl


def test_create_table_ddl_quotes_names_and_keys_the_primary_key() -> None:
    table = _table(Schema([Field("Order ID", "INTEGER", key=True), Field("Note", "TEXT")]))
    ddl = str(CreateTable(table).compile(dialect=DIALECT))
    assert "[Order ID] BIGINT NOT NULL" in ddl and "PRIMARY KEY ([Order ID])" in ddl


def test_merge_updates_on_replace_and_only_inserts_on_ignore() -> None:
    table = _table(Schema([Field("id", "INTEGER", key=True), Field("n", "TEXT")]))
    replace = merge_sql(DIALECT, table, "#s", ["id", "n"], ["id"], "replace")
    ignore = merge_sql(DIALECT, table, "#s", ["id", "n"], ["id"], "ignore")
    assert "WITH (HOLDLOCK)" in replace and "WHEN MATCHED THEN UPDATE SET t.n = s.n" in replace
    assert "WHEN MATCHED" not in ignore and ignore.endswith("VALUES (s.id, s.n);")


def test_paging_compiles_to_offset_fetch_with_bound_values() -> None:
    table = _table(Schema([Field("id", "INTEGER", key=True), Field("n", "TEXT")]))
    query = parse(where="n = 'x'", limit=5, offset=10)
    sql = str(query.to_sqlalchemy(table).apply(sa.select(table)).compile(dialect=SERVER_2019))
    assert "OFFSET" in sql and "FETCH" in sql and "'x'" not in sql


def test_tail_mode_compiles_to_top_in_a_reversed_subquery() -> None:
    table = _table(Schema([Field("id", "INTEGER", key=True)]))
    sql = str(parse(limit=-3).to_sqlalchemy(table).apply(sa.select(table)).compile(
        dialect=DIALECT))
    assert "TOP" in sql and "DESC" in sql


def test_rowversion_is_upper_hex_without_leading_zeros() -> None:
    assert rowversion_text(bytes.fromhex("00000000187F825E")) == "187F825E"
    assert rowversion_text(bytes(8)) == "0"


def test_live_replace_round_trip(mssql_url: str, tables: TableJanitor) -> None:
    adapter = MssqlAdapter(mssql_url)
    t = tables.name(mssql_url)
    schema = Schema([Field("id", "INTEGER", key=True), Field("n", "TEXT")])
    adapter.write(TableStream.from_rows(schema, [(1, "a"), (2, "b")], table=t), create=True)
    adapter.write(TableStream.from_rows(schema, [(2, "B"), (3, "c")], table=t))
    assert sorted(adapter.read(t).rows()) == [(1, "a"), (2, "B"), (3, "c")]
    assert [r[0] for r in adapter.read(t, parse(limit=-2)).rows()] == [2, 3]
