"""Every TDTP type through SQLite → packet → PostgreSQL → packet → MariaDB → packet → SQLite.

The values that come back are the values that went in: extremes, NULLs, empty strings,
unicode, sub-second times. Special floats are checked per database, where it can hold
them (MariaDB cannot; SQLite turns NaN into NULL).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tdtp_core import read_packets, write_packets
from tdtp_core.sql import SqlAdapter
from tdtp_core.testing.data import TYPE_MATRIX_ROWS, TYPE_MATRIX_SCHEMA
from tdtp_core.types import Field, Schema
from tests.adapters.adapter_helpers import Db, content, stream

SCHEMA = TYPE_MATRIX_SCHEMA
ROWS = TYPE_MATRIX_ROWS


def _hop(source: SqlAdapter, table: str, target: SqlAdapter, target_table: str,
         tmp: Path) -> None:
    """Export ``table`` to packets, then import them into ``target`` (created)."""
    paths = write_packets(source.read(table), tmp / f"{target_table}.tdtp.xml",
                          compress="zstd", integrity=True, part_size=64 * 1024)
    result = target.write(read_packets(*paths), table=target_table, create=True)
    assert result.rows == len(ROWS)


@pytest.mark.postgres
@pytest.mark.mariadb
def test_every_type_survives_sqlite_postgres_mariadb_and_back(
    sqlite_db: Db, pg: Db, maria: Db, tmp_path: Path
) -> None:
    start, back = sqlite_db.new_table(), sqlite_db.new_table()
    on_pg, on_maria = pg.new_table(), maria.new_table()
    sqlite_db.adapter.write(stream(ROWS, start, SCHEMA), create=True)
    original = content(sqlite_db.adapter, start)
    assert original == ROWS
    _hop(sqlite_db.adapter, start, pg.adapter, on_pg, tmp_path)
    _hop(pg.adapter, on_pg, maria.adapter, on_maria, tmp_path)
    _hop(maria.adapter, on_maria, sqlite_db.adapter, back, tmp_path)
    assert content(sqlite_db.adapter, back) == original


@pytest.mark.postgres
def test_postgres_keeps_nan_and_infinities(pg: Db) -> None:
    t = pg.new_table()
    schema = Schema([Field("id", "INTEGER", key=True), Field("r", "REAL"),
                     Field("d", "DECIMAL", precision=10, scale=2)])
    rows = [(1, math.nan, Decimal("NaN")), (2, math.inf, Decimal("1.00")),
            (3, -math.inf, Decimal("2.00"))]
    pg.adapter.write(stream(rows, t, schema), create=True)
    got = content(pg.adapter, t)
    assert math.isnan(got[0][1]) and got[0][2].is_nan()
    assert [r[1] for r in got[1:]] == [math.inf, -math.inf]


def test_sqlite_keeps_infinities_and_stores_nan_as_null(sqlite_db: Db) -> None:
    t = sqlite_db.new_table()
    schema = Schema([Field("id", "INTEGER", key=True), Field("r", "REAL")])
    sqlite_db.adapter.write(stream([(1, math.nan), (2, math.inf), (3, -math.inf)], t, schema),
                            create=True)
    assert content(sqlite_db.adapter, t) == [(1, None), (2, math.inf), (3, -math.inf)]


@pytest.mark.mariadb
def test_mariadb_stores_special_floats_as_null(maria: Db) -> None:
    t = maria.new_table()
    schema = Schema([Field("id", "INTEGER", key=True), Field("r", "REAL")])
    maria.adapter.write(stream([(1, math.nan), (2, math.inf), (3, 1.25)], t, schema),
                        create=True)
    assert content(maria.adapter, t) == [(1, None), (2, None), (3, 1.25)]


@pytest.mark.postgres
def test_postgres_native_types_travel_as_text_and_come_back(pg: Db, tmp_path: Path) -> None:
    t, copy = pg.new_table(), pg.new_table()
    schema = Schema([
        Field("id", "INTEGER", key=True),
        Field("u", "TEXT", subtype="uuid", length=-1),
        Field("j", "TEXT", subtype="jsonb", length=-1),
        Field("a", "TEXT", subtype="array", length=-1),
        Field("ip", "TEXT", subtype="inet", length=-1),
        Field("tz", "TIMESTAMP", subtype="timestamptz", timezone="UTC"),
    ])
    rows = [(1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", '{"k": [1, "x"]}', "{a,\"b c\"}",
             "192.168.0.1", datetime(2026, 6, 16, 11, 38, 11, 5, tzinfo=UTC))]
    pg.adapter.write(stream(rows, t, schema), create=True)
    _hop_rows = content(pg.adapter, t)
    assert _hop_rows == rows
    paths = write_packets(pg.adapter.read(t), tmp_path / "pg.tdtp.xml")
    pg.adapter.write(read_packets(*paths), table=copy, create=True)
    info = pg.adapter.inspect(copy)
    assert info.native_types["u"] == "UUID" and info.native_types["a"] == "TEXT[]"
    assert content(pg.adapter, copy) == rows
