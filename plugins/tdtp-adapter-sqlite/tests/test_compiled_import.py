"""The compiled import lane (``tdtp_core.sql.rowinsert``) against the typed path.

Packets are written from hand-made cell texts, so they hold the odd forms a packet may
carry (signs, leading zeros, exponents, zones, seven fraction digits, markers, escapes,
text over a column's length, NULL in a NOT NULL column): whatever the cells, importing
with the C lane must leave the table exactly as the typed path leaves it (values and
storage classes), or fail with the same message.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdtp_core import read_packets, write_packets
from tdtp_core.errors import TdtpError
from tdtp_core.packet.encode import NEEDS_XML_ESCAPE
from tdtp_core.plugins import get_host
from tdtp_core.sql import native
from tdtp_core.stream import EncodedRows, TableStream
from tdtp_core.types import Field, Schema
from tdtp_core.values import HAS_NULL, NULL_SENTINEL

SCHEMA = Schema([
    Field("id", "INTEGER", key=True),
    Field("i", "INTEGER"),
    Field("r", "REAL"),
    Field("d", "DECIMAL", precision=12, scale=2),
    Field("b", "BOOLEAN"),
    Field("dt", "DATE"),
    Field("ts", "TIMESTAMP", timezone="UTC"),
    Field("s", "TEXT"),
    Field("s5", "TEXT", length=5),
    Field("nn", "INTEGER"),
])
DDL = ("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, d NUMERIC(12, 2), "
       "b BOOLEAN, dt DATE, ts DATETIME, s TEXT, s5 VARCHAR(5), nn INTEGER NOT NULL)")
#: The columns in a different order from the packet's fields.
DDL_REORDERED = ("CREATE TABLE t (s5 VARCHAR(5), ts DATETIME, nn INTEGER NOT NULL, "
                 "id INTEGER PRIMARY KEY, d NUMERIC(12, 2), b BOOLEAN, i INTEGER, r REAL, "
                 "dt DATE, s TEXT)")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")


_text = st.one_of(st.just("[NULL]"),
                  st.text(st.sampled_from([*"ab |\\\n&<>é", "ж", "\U0001f600"]), max_size=6))
_fraction = st.sampled_from(["", ".5", ".120", ".0", ".000000", ".123456"])
#: Cell texts per field in the forms the writer makes (an ``s5`` text may be over the
#: column's five characters).
CANONICAL: dict[str, Any] = {
    "i": st.integers(-10**18, 10**18).map(str),
    "r": st.floats(allow_nan=False, allow_infinity=False).map(repr),
    "d": st.one_of(st.integers(-10**8, 10**8).map(lambda c: f"{c / 100:.2f}"),
                   st.sampled_from(["0.10", "-0", "-0.00", "3", "12.5", "0.125"])),
    "b": st.sampled_from(["0", "1"]),
    "dt": st.dates().map(lambda d: d.isoformat()),
    "ts": st.builds(lambda d, frac: d.isoformat()[:19] + frac + "Z", st.datetimes(), _fraction),
    "s": _text.map(_escape),
    "s5": _text.map(_escape),
    "nn": st.integers(-100, 100).map(str),
}
#: Odd forms the typed path converts or refuses, one of which a row may hold.
ODD: dict[str, Any] = {
    "i": st.sampled_from(["+5", "007", "-0", "1234567890123456789", "9223372036854775808",
                          "1.0", "abc"]),
    "r": st.sampled_from(["1e3", "-0", ".5", "5.", "1E-2", "inf", "nan", "1e400", "x"]),
    "d": st.sampled_from(["1e2", "007", "+1", "1.", ".5", "abc"]),
    "b": st.sampled_from(["true", "False", "2", "yes"]),
    "dt": st.sampled_from(["2023-02-30", "0000-01-01", "2024-1-1"]),
    "ts": st.sampled_from(["2024-01-01 10:00:00Z", "2024-01-01T10:00:00", "2024-01-01T10:00:00.5",
                           "2024-01-01T10:00:00+01:00", "2024-01-01T10:00:00.1234567Z",
                           "2024-01-01T24:00:00Z"]),
    "s5": st.just("abcdef"),
    "nn": st.sampled_from([None, "x"]),
}
_NAMES = list(CANONICAL)


def _with_odd(row: tuple[str | None, ...], odd: tuple[str, str | None] | None,
              ) -> tuple[str | None, ...]:
    if odd is None:
        return row
    cells = list(row)
    cells[_NAMES.index(odd[0])] = odd[1]
    return tuple(cells)


_row = st.builds(
    _with_odd,
    st.tuples(*(st.one_of(st.just(None), cells) if name != "nn" else cells
                for name, cells in CANONICAL.items())),
    st.one_of(st.none(), st.none(), st.none(),
              st.sampled_from(list(ODD)).flatmap(lambda n: st.tuples(st.just(n), ODD[n]))))


def _packet(path: Path, rows: list[tuple[str | None, ...]], *, part_size: int | None = None,
            ) -> list[Path]:
    """A packet whose rows carry exactly these cell texts (None: NULL)."""
    lines = []
    flags = [0] * len(SCHEMA.fields)
    for key, row in enumerate(rows):
        cells = [str(key), *row]
        for i, cell in enumerate(cells):
            if cell is None:
                flags[i] |= HAS_NULL
            elif any(c in cell for c in "&<>"):
                flags[i] |= NEEDS_XML_ESCAPE
        lines.append("\x00".join(NULL_SENTINEL if c is None else c for c in cells))
    stream = TableStream(SCHEMA, [], table="t",
                         encoded=lambda _replace: [EncodedRows(lines, flags)])
    return write_packets(stream, path, part_size=part_size)


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
def compiled_module() -> Iterator[None]:
    if native.compiled is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tdtp_core.sql._sqliterows was not built")
        pytest.skip("tdtp_core.sql._sqliterows was not built here (no C compiler or sqlite3.h)")
    yield


def _compare(tmp_path: Path, rows: list[tuple[str | None, ...]], **options: Any) -> str | None:
    """Both ways give the same table or the same refusal; returns the refusal."""
    packets = _packet(tmp_path / "in.tdtp.xml", rows, part_size=options.pop("part_size", None))
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
@given(rows=st.lists(_row, min_size=1, max_size=12))
def test_the_lane_stores_what_the_typed_path_stores(
        compiled_module: None, tmp_path: Path, rows: list[tuple[str | None, ...]]) -> None:
    _compare(tmp_path, rows)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=8))
def test_columns_in_another_order_than_the_fields(
        compiled_module: None, tmp_path: Path, rows: list[tuple[str | None, ...]]) -> None:
    _compare(tmp_path, rows, ddl=DDL_REORDERED)


def _clean(n: int) -> list[tuple[str | None, ...]]:
    return [(str(k), f"{k}.5", f"{k}.25", str(k % 2), "2024-02-29",
             f"2024-02-29T10:00:0{k % 10}.5Z", _escape(f"t|{k}\\"), "ab", str(k))
            for k in range(n)]


def test_clean_rows_all_go_through_c(compiled_module: None, tmp_path: Path) -> None:
    packets = _packet(tmp_path / "in.tdtp.xml", _clean(10))
    error, table, batches = _import(packets[0], tmp_path / "lane.db", compiled=True)
    assert error is None and batches == 3  # 10 rows in batches of 4
    assert table[3][:20] == (3, "integer", 3, "integer", 3.5, "real", 3.25, "real",
                             1, "integer", "2024-02-29", "text",
                             "2024-02-29 10:00:03.500000", "text", "t|3\\", "text",
                             "ab", "text", 3, "integer")


def test_a_bad_cell_after_clean_batches_names_its_row(compiled_module: None,
                                                      tmp_path: Path) -> None:
    rows = _clean(10)
    rows[9] = (*rows[9][:3], "2", *rows[9][4:])
    error = _compare(tmp_path, rows)
    assert error is not None and "row 10" in error and "'b'" in error


def test_null_in_a_not_null_column_is_refused_and_nothing_is_written(
        compiled_module: None, tmp_path: Path) -> None:
    rows = _clean(10)
    rows[6] = (*rows[6][:8], None)
    error = _compare(tmp_path, rows)
    assert error is not None and "row 7" in error and "NULL in a NOT NULL column" in error
    with sqlite3.connect(tmp_path / "lane.db") as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_constraint_broken_in_c_fails_the_import_whole(compiled_module: None,
                                                         tmp_path: Path) -> None:
    rows = _clean(6)
    packets = _packet(tmp_path / "in.tdtp.xml", rows)
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
    rows = _clean(300)
    rows[250] = (*rows[250][:4], "2024-13-01", *rows[250][5:])  # the typed path: refused
    error = _compare(tmp_path, rows, part_size=4096, batch_size=50)
    assert error is not None and "row" in error and "'dt'" in error
    assert "part" in error  # a part set names the part


@pytest.mark.parametrize("strategy", ["replace", "ignore", "fail", "copy"])
def test_every_strategy_takes_the_lane(compiled_module: None, tmp_path: Path,
                                       strategy: str) -> None:
    assert _compare(tmp_path, _clean(9), strategy=strategy) is None
