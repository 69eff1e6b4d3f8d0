"""The compiled import lane (``tdtp_core.sql.rowinsert``) against the typed path.

Packets are written from hand-made cell texts, so they hold the odd forms a packet may
carry (signs, leading zeros, exponents, zones, seven fraction digits, markers, escapes,
text over a column's length, NULL in a NOT NULL column): whatever the cells, importing
with the C lane must leave the table exactly as the typed path leaves it (values and
storage classes), or fail with the same message.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdtp_core import read_packets
from tdtp_core.errors import TdtpError
from tdtp_core.plugins import get_host
from tdtp_core.sql import native
from tdtp_core.testing import services
from tdtp_core.testing.cells import ODD_PAIRS, cell_packet, clean_lane_rows, lane_rows, with_cell

DDL = ("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, d NUMERIC(12, 2), "
       "b BOOLEAN, dt DATE, ts DATETIME, s TEXT, s5 VARCHAR(5), nn INTEGER NOT NULL)")
#: The columns in a different order from the packet's fields.
DDL_REORDERED = ("CREATE TABLE t (s5 VARCHAR(5), ts DATETIME, nn INTEGER NOT NULL, "
                 "id INTEGER PRIMARY KEY, d NUMERIC(12, 2), b BOOLEAN, i INTEGER, r REAL, "
                 "dt DATE, s TEXT)")


def _import(packet: Path, database: Path, *, compiled: bool, batch_size: int = 4,
            strategy: str = "replace", ddl: str = DDL) -> tuple[str | None, list[Any], int]:
    """(the refusal, or None; the table with each value's storage class; how many
    batches the C lane took)."""
    with sqlite3.connect(database) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute(ddl)
    calls = _Counting(native.compiled)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(native, "compiled", calls if compiled else None)
        adapter = get_host().adapter_for_url(f"sqlite:///{database}")
        try:
            adapter.write(read_packets(packet, batch_size=batch_size), strategy=strategy)
            error = None
        except TdtpError as exc:
            error = str(exc)
        finally:
            adapter.close()
    with sqlite3.connect(database) as conn:
        names = [r[1] for r in conn.execute("PRAGMA table_info(t)")]
        table = conn.execute(
            f"SELECT {', '.join(f'{n}, typeof({n})' for n in names)} FROM t ORDER BY id"
        ).fetchall()
    return error, table, calls.batches


class _Counting:
    """The compiled module, counting the batches handed to its import lane."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.batches = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def insert_rows(self, *args: Any) -> int:
        self.batches += 1
        return int(self.module.insert_rows(*args))


@pytest.fixture
def compiled_module() -> None:
    services.require_compiled(native.compiled, "tdtp_core.sql._sqliterows")


def _compare(tmp_path: Path, rows: list[tuple[str | None, ...]], **options: Any) -> str | None:
    """Both ways give the same table or the same refusal; returns the refusal."""
    packets = cell_packet(tmp_path / "in.tdtp.xml", rows,
                          part_size=options.pop("part_size", None))
    typed = _import(packets[0], tmp_path / "typed.db", compiled=False, **options)
    lane = _import(packets[0], tmp_path / "lane.db", compiled=True, **options)
    for p in packets:
        p.unlink()
    assert lane[:2] == typed[:2]
    assert lane[2] > 0, "the compiled lane was not used"
    return typed[0]


_SETTINGS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(rows=st.lists(lane_rows, min_size=1, max_size=12))
def test_the_lane_stores_what_the_typed_path_stores(
        compiled_module: None, tmp_path: Path, rows: list[tuple[str | None, ...]]) -> None:
    _compare(tmp_path, rows)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(lane_rows, min_size=1, max_size=8))
def test_columns_in_another_order_than_the_fields(
        compiled_module: None, tmp_path: Path, rows: list[tuple[str | None, ...]]) -> None:
    _compare(tmp_path, rows, ddl=DDL_REORDERED)


def test_clean_rows_all_go_through_c(compiled_module: None, tmp_path: Path) -> None:
    packets = cell_packet(tmp_path / "in.tdtp.xml", clean_lane_rows(10))
    error, table, batches = _import(packets[0], tmp_path / "lane.db", compiled=True)
    assert error is None and batches == 3  # 10 rows in batches of 4
    assert table[3][:20] == (3, "integer", 3, "integer", 3.5, "real", 3.25, "real",
                             1, "integer", "2024-02-29", "text",
                             "2024-02-29 10:00:03.500000", "text", "t|3\\", "text",
                             "ab", "text", 3, "integer")


@pytest.mark.parametrize(("name", "cell"), ODD_PAIRS)
def test_each_odd_cell_is_stored_as_the_typed_path_stores_it(
        compiled_module: None, tmp_path: Path, name: str, cell: str | None) -> None:
    _compare(tmp_path, with_cell(clean_lane_rows(6), 4, name, cell))


def test_a_bad_cell_after_clean_batches_names_its_row(compiled_module: None,
                                                      tmp_path: Path) -> None:
    rows = with_cell(clean_lane_rows(10), 9, "b", "2")
    error = _compare(tmp_path, rows)
    assert error is not None and "row 10" in error and "'b'" in error


def test_null_in_a_not_null_column_is_refused_and_nothing_is_written(
        compiled_module: None, tmp_path: Path) -> None:
    rows = with_cell(clean_lane_rows(10), 6, "nn", None)
    error = _compare(tmp_path, rows)
    assert error is not None and "row 7" in error and "NULL in a NOT NULL column" in error
    with sqlite3.connect(tmp_path / "lane.db") as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_constraint_broken_in_c_fails_the_import_whole(compiled_module: None,
                                                         tmp_path: Path) -> None:
    rows = clean_lane_rows(6)
    packets = cell_packet(tmp_path / "in.tdtp.xml", rows)
    with sqlite3.connect(tmp_path / "lane.db") as conn:
        conn.execute(DDL)
        conn.execute("CREATE UNIQUE INDEX one_s5 ON t (s5)")  # every row has 'ab'
    adapter = get_host().adapter_for_url(f"sqlite:///{tmp_path / 'lane.db'}")
    try:
        with pytest.raises(TdtpError, match=r"UNIQUE constraint failed: t\.s5"):
            adapter.write(read_packets(packets[0], batch_size=4), strategy="fail")
    finally:
        adapter.close()
    with sqlite3.connect(tmp_path / "lane.db") as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_part_set_read_by_workers_goes_through_c(
        compiled_module: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        workers: str) -> None:
    monkeypatch.setenv("TDTP_WORKERS", workers)
    rows = with_cell(clean_lane_rows(300), 250, "dt", "2024-13-01")  # refused
    error = _compare(tmp_path, rows, part_size=4096, batch_size=50)
    assert error is not None and "row" in error and "'dt'" in error
    assert "part" in error  # a part set names the part


@pytest.mark.parametrize("strategy", ["replace", "ignore", "fail", "copy"])
def test_every_strategy_takes_the_lane(compiled_module: None, tmp_path: Path,
                                       strategy: str) -> None:
    assert _compare(tmp_path, clean_lane_rows(9), strategy=strategy) is None
