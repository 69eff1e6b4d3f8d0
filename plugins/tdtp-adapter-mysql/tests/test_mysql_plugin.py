"""The MySQL/MariaDB plugin: registration, a light hook module, types, MariaDB specifics."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy.dialects import mysql
from tdtp_adapter_mysql.adapter import MysqlAdapter
from tdtp_adapter_mysql.types import MysqlTypes

from tdtp_core.plugins import get_host
from tdtp_core.sql import NativeType
from tdtp_core.stream import TableStream
from tdtp_core.testing import services
from tdtp_core.testing.services import TableJanitor, modules_loaded_by
from tdtp_core.types import NODATE, Field, Schema

TYPES = MysqlTypes()
mariadb_url = services.mariadb_url
tables = services.tables


@pytest.mark.parametrize(("url", "driver"), [
    ("mysql://h/db", "mysql+pymysql"), ("mariadb://h/db", "mariadb+pymysql"),
    ("mysql+pymysql://h/db", "mysql+pymysql"),
])
def test_mysql_and_mariadb_urls_get_this_adapter(url: str, driver: str) -> None:
    adapter = get_host().adapter_for_url(url)
    assert isinstance(adapter, MysqlAdapter) and adapter.sa_url.drivername == driver


def test_the_hook_module_imports_nothing_heavy() -> None:
    assert not modules_loaded_by("tdtp_adapter_mysql") & {"sqlalchemy", "pymysql"}


@pytest.mark.parametrize(("native", "expected"), [
    ("INTEGER(11)", Field("c", "INTEGER", length=11, subtype="integer")),
    ("TINYINT(1)", Field("c", "BOOLEAN")),
    ("BIGINT UNSIGNED", Field("c", "INTEGER", subtype="bigint")),
    ("FLOAT", Field("c", "FLOAT")),
    ("DOUBLE", Field("c", "DOUBLE")),
    ("DECIMAL(10, 2)", Field("c", "DECIMAL", precision=10, scale=2)),
    ("CHAR(3)", Field("c", "CHAR", length=3)),
    ("VARCHAR(20) COLLATE utf8mb4_bin", Field("c", "VARCHAR", length=20)),
    ("MEDIUMTEXT", Field("c", "TEXT", length=16777215)),
    ("DATETIME(6)", Field("c", "DATETIME")),
    ("TIMESTAMP", Field("c", "TIMESTAMP", timezone="UTC")),
    ("TIME", Field("c", "TIMESTAMP", subtype="time")),
    ("LONGBLOB", Field("c", "BLOB")),
    ("ENUM('a','b')", Field("c", "TEXT", subtype="enum")),
])
def test_native_types_map_to_tdtp(native: str, expected: Field) -> None:
    assert TYPES.to_field("c", NativeType.parse(native)) == expected


@pytest.mark.parametrize(("field", "ddl"), [
    (Field("c", "INTEGER"), "BIGINT"),
    (Field("c", "INTEGER", length=4), "INTEGER"),
    (Field("c", "REAL"), "DOUBLE"),
    (Field("c", "FLOAT"), "FLOAT"),
    (Field("c", "DECIMAL"), "DECIMAL(18, 2)"),
    (Field("c", "TEXT"), "LONGTEXT"),
    (Field("c", "TEXT", length=40), "VARCHAR(40)"),
    (Field("c", "TEXT", key=True), "VARCHAR(255)"),
    (Field("c", "CHAR"), "CHAR(1)"),
    (Field("c", "BOOLEAN"), "TINYINT(1)"),
    (Field("c", "TIMESTAMP", timezone="UTC"), "DATETIME(6)"),
    (Field("c", "TIMESTAMP", subtype="time"), "TIME(6)"),
    (Field("c", "BLOB"), "LONGBLOB"),
])
def test_tdtp_types_create_mysql_columns(field: Field, ddl: str) -> None:
    assert TYPES.to_column_type(field).compile(dialect=mysql.dialect()) == ddl


@pytest.mark.mariadb
def test_created_tables_compare_text_keys_exactly(mariadb_url: str,
                                                  tables: TableJanitor) -> None:
    adapter = MysqlAdapter(mariadb_url)
    t = tables.name(mariadb_url)
    schema = Schema([Field("k", "TEXT", key=True)])
    rows = [("a",), ("A",), ("a ",)]
    adapter.write(TableStream.from_rows(schema, rows, table=t), create=True, strategy="fail")
    assert sorted(adapter.read(t).rows()) == sorted(rows)


@pytest.mark.mariadb
def test_zero_dates_and_times_read_as_tdtp_values(mariadb_url: str,
                                                  tables: TableJanitor) -> None:
    adapter = MysqlAdapter(mariadb_url)
    t = tables.name(mariadb_url)
    with adapter.engine.begin() as conn:
        conn.exec_driver_sql("SET SESSION sql_mode = ''")
        conn.exec_driver_sql(f"CREATE TABLE {t} (id INT PRIMARY KEY, d DATE, tm TIME)")
        conn.exec_driver_sql(f"INSERT INTO {t} VALUES (1, '0000-00-00', '08:30:01')")
        conn.exec_driver_sql("SET SESSION sql_mode = DEFAULT")
    assert adapter.read(t).rows() == [(1, NODATE, time(8, 30, 1))]


@pytest.mark.parametrize(("field", "comment"), [
    (Field("c", "TIMESTAMP", timezone="UTC"), "tdtp:timezone=UTC"),
    (Field("c", "DATETIME", timezone="+03:00"), "tdtp:timezone=+03:00"),
    (Field("c", "TIMESTAMP"), None),
    (Field("c", "TIMESTAMP", subtype="time", timezone="UTC"), None),
    (Field("c", "DATE", timezone="UTC"), None),
])
def test_only_zoned_date_times_get_a_zone_comment(field: Field, comment: str | None) -> None:
    assert TYPES.column_comment(field) == comment


@pytest.mark.mariadb
def test_zoned_timestamps_read_back_aware_and_plain_ones_naive(
    mariadb_url: str, tables: TableJanitor
) -> None:
    adapter = MysqlAdapter(mariadb_url)
    t = tables.name(mariadb_url)
    schema = Schema([Field("id", "INTEGER", key=True),
                     Field("utc", "TIMESTAMP", timezone="UTC"), Field("plain", "TIMESTAMP")])
    rows = [(1, datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
             datetime(1000, 1, 1, 12, 30))]
    adapter.write(TableStream.from_rows(schema, rows, table=t), create=True)
    assert adapter.read(t).rows() == rows
    assert [(f.type, f.timezone) for f in adapter.schema(t)][1:] == [
        ("DATETIME", "UTC"), ("DATETIME", None)]
