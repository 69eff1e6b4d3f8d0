"""The compiled export lane (``tdtp_core.sql.rowtext``) against the typed lane.

Whatever SQLite holds (values of the declared kind, of another storage class, or odd:
exponents, negative zero, invalid days, control characters), the rows and flags the C
lane gives must be the typed lane's, and a value the typed lane refuses must be refused
the same way.
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
from tdtp_core.plugins import get_host
from tdtp_core.sql import native
from tdtp_core.stream import EncodedRows
from tdtp_core.tdtql import parse

COLUMNS = {
    "i": "INTEGER",
    "r": "REAL",
    "d": "NUMERIC(12, 2)",
    "d0": "NUMERIC(10, 0)",
    "d4": "DECIMAL(18, 4)",
    "b": "BOOLEAN",
    "dt": "DATE",
    "ts": "DATETIME",
    "s": "TEXT",
}

_floats = st.floats(allow_nan=False, width=64)
_texts = st.one_of(st.just("[NULL]"), st.text(st.sampled_from(
    [*"ab|\\\n\r\t&<> zé", "\x01", "\x02", "\x1f", "\ufffe", "ж", "\U0001f600"]), max_size=8))
_days = st.dates().map(lambda d: d.isoformat())
_fractions = st.sampled_from(["", ".0", ".5", ".120", ".000000", ".123456", ".1234567"])
_timestamps = st.builds(lambda d, sep, frac, zone: d.isoformat(sep=sep)[:19] + frac + zone,
                        st.datetimes(), st.sampled_from([" ", "T"]), _fractions,
                        st.sampled_from(["", "", "", "Z", "+01:00"]))
_numbers = st.one_of(st.integers(-2**63, 2**63 - 1), _floats)
#: Values the typed lane accepts (of the column's kind or convertible to it), odd ones
#: included: exponents, infinities, negative zero, zones, trailing zeros, markers.
_ACCEPTED = {
    "i": st.one_of(st.integers(-2**63, 2**63 - 1), st.sampled_from([2.0, -7.0, "12", " 5"])),
    "r": st.one_of(_floats, st.floats(0, 1000), st.integers(-2**53, 2**53),
                   st.sampled_from(["1.5", "-0", "1e3"])),
    "d": st.one_of(st.integers(-10**12, 10**12), st.floats(-1e6, 1e6), _floats,
                   st.integers(-10**6, 10**6).map(lambda c: c / 100),
                   st.sampled_from(["12.5", "-0.125", "3"])),
    "d0": st.one_of(st.integers(-10**9, 10**9), st.floats(-1e6, 1e6)),
    "d4": st.one_of(st.integers(-10**9, 10**9).map(lambda c: c / 10**4), _numbers),
    "b": st.one_of(st.sampled_from([0, 1, 2, -1, 0.5, "true", "no", 1.0]), _numbers),
    "dt": st.one_of(_days, st.just("2024-02-29 10:00:00")),
    "ts": _timestamps.filter(lambda t: not t.endswith(".1234567")),
    "s": st.one_of(_texts, _numbers),
}
#: Anything, refused values included (a text in an INTEGER column, an invalid day).
_ANY = {
    name: st.one_of(accepted, st.sampled_from(
        ["abc", "2023-02-30", "0000-01-01", "2024-01-01 24:00:00", "2024-01-01T10:00:00.1234567",
         "[NULL]"]), _numbers, _texts)
    for name, accepted in _ACCEPTED.items()
}


def _table_rows(values: dict[str, Any]) -> Any:
    return st.lists(st.tuples(*(st.one_of(st.none(), v) for v in values.values())),
                    min_size=1, max_size=12)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "src.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE t ({', '.join(f'{c} {t}' for c, t in COLUMNS.items())})")
    return path


def _fill(path: Path, rows: list[tuple[Any, ...]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM t")
        conn.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(COLUMNS))})", rows)


def _lane(path: Path, *, replace_invalid: bool, compiled: bool,
          monkeypatch: pytest.MonkeyPatch, **query: Any) -> list[EncodedRows] | str:
    """The encoded lane's batches (rows as text, whichever form the lane gave), or the
    refusal's message."""
    with monkeypatch.context() as patch:
        if not compiled:
            patch.setattr(native, "compiled", None)
        adapter = get_host().adapter_for_url(f"sqlite:///{path}")
        try:
            stream = adapter.read("t", batch_size=5, **query)
            lane = stream.encoded_rows(replace_invalid=replace_invalid)
            assert lane is not None
            return [EncodedRows([r.decode() if isinstance(r, bytes) else r for r in b.rows],
                                b.flags) for b in lane]
        except Exception as exc:  # compared as text by the callers
            return f"{type(exc).__name__}: {exc}"
        finally:
            adapter.close()


def test_the_compiled_module_is_built_and_usable(tmp_path: Path) -> None:
    if native.compiled is None and os.environ.get("CI") != "true":
        pytest.skip("tdtp_core.sql._sqliterows was not built here (no C compiler or sqlite3.h)")
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert native.for_connection(conn) is not None


def test_a_connection_of_another_kind_is_not_usable() -> None:
    assert native.for_connection(object()) is None


def _compare(database: Path, rows: list[tuple[Any, ...]], replace_invalid: bool,
             monkeypatch: pytest.MonkeyPatch) -> bool:
    """The two lanes agree; returns whether the rows were accepted."""
    _fill(database, rows)
    typed = _lane(database, replace_invalid=replace_invalid, compiled=False,
                  monkeypatch=monkeypatch)
    compiled = _lane(database, replace_invalid=replace_invalid, compiled=True,
                     monkeypatch=monkeypatch)
    if isinstance(typed, str) or isinstance(compiled, str):
        # Both refuse. With several bad values, which one is named may differ: the
        # typed lane goes column by column, the compiled one row by row.
        assert isinstance(typed, str) and isinstance(compiled, str)
        return False
    assert [(b.rows, b.flags) for b in compiled] == [(b.rows, b.flags) for b in typed]
    return True


_SETTINGS = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(rows=_table_rows(_ACCEPTED))
def test_compiled_rows_are_the_typed_rows(database: Path, rows: list[tuple[Any, ...]]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        assert _compare(database, rows, True, mp)


@_SETTINGS
@given(rows=_table_rows(_ANY), replace_invalid=st.booleans())
def test_compiled_lane_refuses_what_the_typed_lane_refuses(
        database: Path, rows: list[tuple[Any, ...]], replace_invalid: bool) -> None:
    with pytest.MonkeyPatch.context() as mp:
        _compare(database, rows, replace_invalid, mp)


def test_a_refused_value_names_its_row(database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(database, [(n, None, None, None, None, None, None, None, f"ok {n}") for n in range(7)]
          + [(7, None, None, None, None, None, None, None, "bad \x01")])
    message = _lane(database, replace_invalid=False, compiled=True, monkeypatch=monkeypatch)
    assert isinstance(message, str)
    assert "row 8" in message and "U+0001" in message


def test_pushed_down_queries_bind_their_parameters(database: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(database, [(n, n / 4, n, n, n, n % 2, "2024-01-02", "2024-01-02 03:04:05", f"n{n}")
                     for n in range(40)])
    query = {"query": parse(where="i IN (3, 5, 30) OR s = 'n7'", order_by="i DESC")}
    compiled = _lane(database, replace_invalid=False, compiled=True, monkeypatch=monkeypatch,
                     **query)
    typed = _lane(database, replace_invalid=False, compiled=False, monkeypatch=monkeypatch,
                  **query)
    assert isinstance(compiled, list) and isinstance(typed, list)
    assert [b.rows for b in compiled] == [b.rows for b in typed]
    assert [r.split("\x00")[0] for b in compiled for r in b.rows] == ["30", "7", "5", "3"]


def test_an_exported_packet_reads_back(database: Path, tmp_path: Path) -> None:
    rows = [(n, n + 0.25, n / 100, n, n / 10**4, n % 2, "2024-02-29",
             f"2024-01-01 00:00:{n % 60:02d}.{n:06d}", f"a|b\\c {n}") for n in range(1, 200)]
    _fill(database, rows)
    adapter = get_host().adapter_for_url(f"sqlite:///{database}")
    write_packets(adapter.read("t"), tmp_path / "out.tdtp.xml")
    adapter.close()
    back = list(_rows_of(read_packets(tmp_path / "out.tdtp.xml")))
    assert [r[0] for r in back] == list(range(1, 200))
    assert back[0][8] == "a|b\\c 1"
    assert str(back[1][2]) == "0.02"
    assert back[1][7].isoformat() == "2024-01-01T00:00:02.000002+00:00"


def _rows_of(stream: Any) -> Iterator[tuple[Any, ...]]:
    for batch in stream.batches():
        yield from batch
