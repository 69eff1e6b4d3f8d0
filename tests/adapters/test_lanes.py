"""The fast lanes give exactly what the typed path gives, on every database.

An export's encoded lane (driver values, or PostgreSQL's COPY text, straight to packet
rows) must write the bytes the typed path writes; an import's cells lane (cell text
straight to bind values, or to COPY text) must store the values the typed path stores
and fail with the same message. ``stream.derive(stream.batches())`` is the typed path:
a derived stream offers no lane. Worker processes (``TDTP_WORKERS``) must not change
either.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tdtp_core import read_packets, write_packets
from tdtp_core.errors import AdapterError, SchemaError
from tdtp_core.packet.writer import WriteOptions, encode_stream
from tdtp_core.sql import parallel
from tdtp_core.stream import TableStream
from tdtp_core.types import Field, Schema
from tests.adapters.adapter_helpers import Db, content, run_sql, stream

SCHEMA = Schema([
    Field("id", "INTEGER", key=True),
    Field("big", "INTEGER"),
    Field("real", "REAL"),
    Field("amount", "DECIMAL", precision=15, scale=2),
    Field("txt", "TEXT"),
    Field("flag", "BOOLEAN"),
    Field("day", "DATE"),
    Field("at", "TIMESTAMP", timezone="UTC"),
])

_RANDOM_MARKER = re.compile(rb"\[NULL:[0-9a-f]{8}\]")
_TEXTS = ["plain", "pipe | in", "back\\slash", "\\N", "\\\\N", "fish & chips", "a < b > c",
          "line\nfeed", "cr\rhere", "tab\there", "[NULL]", "", "Zoë Ωmega 😀", "NaN",
          "1e+16 users", "x" * 300]
_REALS = [1.5, 25.010755222666937, 100.0, -0.0, 1e-7, 1e20, 123456789012345.67, 0.1]
_AMOUNTS = [Decimal("18678.25"), Decimal("12.50"), Decimal("100.00"), Decimal("-0.01"),
            Decimal("9999999999999.99"), Decimal("0.00")]


def _rows(n: int, special_floats: bool) -> list[tuple[Any, ...]]:
    reals = _REALS + ([math.inf, -math.inf] if special_floats else [])
    out: list[tuple[Any, ...]] = []
    for i in range(1, n + 1):
        out.append((
            i,
            None if i % 7 == 0 else (-(2**63) if i % 11 == 0 else i * 1_000_003),
            None if i % 5 == 0 else reals[i % len(reals)],
            None if i % 6 == 0 else _AMOUNTS[i % len(_AMOUNTS)],
            None if i % 9 == 0 else _TEXTS[i % len(_TEXTS)],
            None if i % 8 == 0 else i % 3 == 0,
            None if i % 10 == 0 else date(2000 + i % 30, 1 + i % 12, 1 + i % 28),
            None if i % 4 == 0 else datetime(2024, 2, 29, 23, 59, 59, (i * 125_000) % 1_000_000,
                                             tzinfo=UTC),
        ))
    return out


def _bodies(s: TableStream) -> list[bytes]:
    """The packet parts of a stream, from ``<Schema>`` on (headers carry timestamps), with
    the random NULL marker a part holding the text ``[NULL]`` gets made comparable."""
    with encode_stream(s, WriteOptions(message_id="LANES", part_size=6_000)) as writer:
        return [_RANDOM_MARKER.sub(b"[NULL:*]", data[data.index(b"<Schema"):])
                for _, _, data in writer.emit()]


def _typed(s: TableStream) -> TableStream:
    return s.derive(s.batches())


def _filled(db: Db, n: int = 120) -> str:
    table = db.new_table()
    db.adapter.write(stream(_rows(n, db.kind != "mariadb"), table, SCHEMA, batch_size=50),
                     create=True)
    return table


def test_the_export_lane_writes_the_typed_paths_bytes(db: Db) -> None:
    table = _filled(db)
    lane = _bodies(db.adapter.read(table, batch_size=17))
    typed = _bodies(_typed(db.adapter.read(table, batch_size=17)))
    assert len(lane) > 1
    assert lane == typed


def test_the_export_lane_of_a_filtered_read_matches_too(db: Db) -> None:
    from tdtp_core.tdtql import parse

    table = _filled(db)
    query = parse(where=["id > 10"], order_by="id DESC", limit=50)
    assert _bodies(db.adapter.read(table, query)) == \
        _bodies(_typed(db.adapter.read(table, query)))


@pytest.mark.parametrize("strategy", ["replace", "ignore", "fail", "copy"])
def test_the_import_lane_stores_what_the_typed_path_stores(
    db: Db, tmp_path: Path, strategy: str
) -> None:
    source = _filled(db)
    paths = write_packets(_typed(db.adapter.read(source)), tmp_path / "p.tdtp.xml",
                          part_size=6_000)
    assert len(paths) > 1
    lane, typed = db.new_table(), db.new_table()
    for table in (lane, typed):
        db.adapter.write(stream([], table, SCHEMA), create=True)
    db.adapter.write(read_packets(*paths), table=lane, strategy=strategy)
    db.adapter.write(_typed(read_packets(*paths)), table=typed, strategy=strategy,
                     force=True)  # the same packet set again: past the ledger
    assert content(db.adapter, lane) == content(db.adapter, typed) == content(db.adapter,
                                                                             source)


def test_replace_into_an_empty_table_keeps_the_last_of_repeated_keys(
    db: Db, tmp_path: Path
) -> None:
    schema = Schema([Field("id", "INTEGER", key=True), Field("v", "TEXT")])
    rows = [(1, "a"), (2, "b"), (1, "c"), (3, "d"), (2, "e")]
    paths = write_packets(TableStream.from_rows(schema, rows, table="dup"),
                          tmp_path / "dup.tdtp.xml")
    for strategy, expected in (("replace", [(1, "c"), (2, "e"), (3, "d")]),
                               ("ignore", [(1, "a"), (2, "b"), (3, "d")])):
        table = db.new_table()
        db.adapter.write(stream([], table, schema), create=True)
        result = db.adapter.write(read_packets(*paths), table=table, strategy=strategy,
                                  force=True)
        assert result.rows == 5
        assert content(db.adapter, table) == expected


def _bad_packet(tmp_path: Path, cell: str, field_type: str = "INTEGER") -> list[Path]:
    """A packet set whose second part holds ``cell`` in field ``big`` of type
    ``field_type``."""
    schema = Schema([Field("id", "INTEGER", key=True), Field("big", "TEXT")])
    rows = [(i, cell if i == 95 else str(i)) for i in range(1, 121)]
    paths = write_packets(TableStream.from_rows(schema, rows, table="bad"),
                          tmp_path / "bad.tdtp.xml", part_size=1500)
    for p in paths:
        p.write_text(p.read_text(encoding="utf-8").replace(
            'name="big" type="TEXT"', f'name="big" type="{field_type}"'), encoding="utf-8")
    return paths


@pytest.mark.parametrize(("cell", "field_type"), [("12x", "INTEGER"), ("", "INTEGER")])
def test_a_bad_cell_fails_the_import_with_the_typed_paths_message(
    db: Db, tmp_path: Path, cell: str, field_type: str
) -> None:
    paths = _bad_packet(tmp_path, cell, field_type)
    assert len(paths) > 2
    # "big" is part of the key, so NOT NULL: an empty cell fails the write plan's check.
    schema = Schema([Field("id", "INTEGER", key=True), Field("big", "INTEGER", key=True)])
    table = db.new_table()
    db.adapter.write(stream([], table, schema), create=True)
    messages = []
    for make in (read_packets, lambda *p: _typed(read_packets(*p))):
        with pytest.raises((SchemaError, AdapterError)) as caught:
            db.adapter.write(make(*paths), table=table)
        messages.append(str(caught.value))
        assert content(db.adapter, table) == []
    assert messages[0] == messages[1]
    assert "part 2" in messages[0]


def test_worker_processes_change_nothing(
    sqlite_db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_ROWS", 1)
    table = _filled(sqlite_db, 300)
    by_count = {}
    for workers in ("1", "2", "3"):
        monkeypatch.setenv("TDTP_WORKERS", workers)
        by_count[workers] = _bodies(sqlite_db.adapter.read(table, batch_size=20))
        paths = write_packets(sqlite_db.adapter.read(table), tmp_path / f"w{workers}.tdtp.xml",
                              part_size=6_000)
        copy = sqlite_db.new_table()
        sqlite_db.adapter.write(read_packets(*paths), table=copy, create=True)
        assert content(sqlite_db.adapter, copy) == content(sqlite_db.adapter, table)
    assert by_count["1"] == by_count["2"] == by_count["3"]


def test_a_worker_that_meets_a_bad_value_fails_like_one_process(
    sqlite_db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_ROWS", 1)
    table = _filled(sqlite_db, 200)
    run_sql(sqlite_db.adapter, f"UPDATE {table} SET amount = 'lots' WHERE id = 170")
    messages = []
    for workers in ("1", "2"):
        monkeypatch.setenv("TDTP_WORKERS", workers)
        with pytest.raises(AdapterError) as caught:
            _bodies(sqlite_db.adapter.read(table, batch_size=20))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "'lots'" in messages[0]


def test_workers_importing_parts_fail_like_one_process(
    sqlite_db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _bad_packet(tmp_path, "12x")
    schema = Schema([Field("id", "INTEGER", key=True), Field("big", "INTEGER")])
    table = sqlite_db.new_table()
    sqlite_db.adapter.write(stream([], table, schema), create=True)
    messages = []
    for workers in ("1", "2"):
        monkeypatch.setenv("TDTP_WORKERS", workers)
        with pytest.raises(SchemaError) as caught:
            sqlite_db.adapter.write(read_packets(*paths), table=table)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


@pytest.mark.postgres
def test_postgres_values_copy_text_cannot_carry_go_the_decoding_way(pg: Db) -> None:
    """NaN, infinities, exponents and out-of-range dates: flagged by the server, decoded."""
    table = pg.new_table()
    schema = Schema([Field("id", "INTEGER", key=True), Field("r", "REAL"),
                     Field("d", "DECIMAL", precision=10, scale=2), Field("day", "DATE")])
    rows = [(1, math.nan, Decimal("NaN"), date(2024, 1, 1)),
            (2, 1e300, Decimal("1.00"), None), (3, 5e-324, None, date(1, 1, 1))]
    pg.adapter.write(stream(rows, table, schema), create=True)
    assert _bodies(pg.adapter.read(table)) == _bodies(_typed(pg.adapter.read(table)))
    run_sql(pg.adapter, f"UPDATE {table} SET day = 'infinity' WHERE id = 2")
    with pytest.raises(AdapterError, match="infinity"):
        _bodies(pg.adapter.read(table))
