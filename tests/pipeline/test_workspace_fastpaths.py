"""The workspace's fast paths store and write exactly what its typed paths do.

Loading: a table of an SQLite file is copied inside SQLite only when every value is
one the typed path (adapter read → ``Workspace.inserter``) would store unchanged.
Writing: the encoded lane (stored values straight to cell text, in forked workers for
large tables) gives the rows the packet encoder makes from the decoded values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdtp_core.packet.encode import RowEncoder
from tdtp_core.pipeline.workspace import Workspace
from tdtp_core.plugins import get_host
from tdtp_core.sql import native, parallel, rowtext
from tdtp_core.stream import TableStream
from tdtp_core.types import Field, Schema

#: Declared SQLite types of the source table, one per TDTP kind the copy handles.
COLUMNS = {"i": "INTEGER", "r": "REAL", "d": "NUMERIC(12,2)", "t": "TEXT",
           "b": "BOOLEAN", "dt": "DATE", "ts": "DATETIME", "bl": "BLOB"}

CANONICAL: dict[str, list[Any]] = {
    "i": [0, -5, 2**63 - 1],
    "r": [0.1, -2.5, 1e300, float("inf")],
    "d": [12.34, 5, -0.5, 2**53],
    "t": ["", "plain", "a|b\\c", "ещё"],
    "b": [0, 1],
    "dt": ["2024-02-29", "0001-01-01", "9999-12-31"],
    "ts": ["2024-02-29 23:59:59", "2024-01-01 00:00:00.123456", "1999-12-31 12:00:00"],
    "bl": [b"", b"\x00\xff"],
}

#: Values the typed path would store differently (or refuse): the copy must not run.
#: (Each survives the column's affinity: SQLite stores "12" in an INTEGER column as 12,
#: and 5 in a TEXT column as "5".)
ODD: list[tuple[str, Any]] = [
    ("i", "12a"), ("i", 1.5), ("r", "x"), ("d", 2**53 + 1), ("d", "12a"),
    ("t", b"x"), ("b", 2), ("b", "true"), ("dt", "2024-1-05"),
    ("dt", "2024-02-30"), ("dt", "0000-00-00"), ("dt", "2024-02-29 10:00:00"),
    ("ts", "2024-02-29T23:59:59"), ("ts", "2024-02-29 23:59:59+02:00"),
    ("ts", "2024-02-29 23:59:59.5"), ("ts", "2024-02-29 23:59:59.000000"),
    ("ts", "2024-02-30 00:00:00"), ("ts", "2024-01-01 24:00:00"), ("ts", "2024-01-01"),
    ("ts", "0000-00-00 00:00:00"), ("bl", "text"),
]


def _source(path: Path, rows: Sequence[Sequence[Any]]) -> str:
    """An SQLite file with table ``src`` holding ``rows`` exactly as given."""
    conn = sqlite3.connect(path)
    columns = ", ".join(f'"{n}" {t}' for n, t in COLUMNS.items())
    conn.execute(f"CREATE TABLE src (id INTEGER PRIMARY KEY, {columns})")
    conn.executemany(f"INSERT INTO src VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
                     [(k, *row) for k, row in enumerate(rows)])
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _stored(ws: Workspace, table: str) -> list[tuple[Any, ...]]:
    """Every stored value with its storage class, in row order."""
    names = ", ".join(f'"{f.name}", typeof("{f.name}")' for f in ws.schema(table))
    return ws.conn.execute(f'SELECT {names} FROM "{table}" ORDER BY rowid').fetchall()


def _load_both(url: str, path: Path) -> tuple[int | None, Workspace, Workspace]:
    """The table loaded by the copy and by the typed path, into two workspaces."""
    adapter = get_host().adapter_for_url(url)
    try:
        typed, copied = Workspace(), Workspace()
        stream = adapter.read("src")
        for ws in (typed, copied):
            ws.create("src", stream.schema)
        rows = copied.copy_sqlite("src", path, "src", stream.schema.names)
        insert = typed.inserter("src")
        for batch in stream.batches():
            insert(batch)
        return rows, typed, copied
    finally:
        adapter.close()


def _row(**values: Any) -> list[Any]:
    return [values.get(name) for name in COLUMNS]


def _canonical_rows() -> list[list[Any]]:
    width = max(len(v) for v in CANONICAL.values())
    rows = [_row(**{n: v[k % len(v)] for n, v in CANONICAL.items()}) for k in range(width)]
    return [*rows, _row()]  # and a row of NULLs


@pytest.fixture(params=["compiled", "sql"])
def copy_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The copy stepped in C (``copy_checked``), or by SQL when the module is absent."""
    if request.param == "sql":
        monkeypatch.setattr(native, "compiled", None)
    elif native.compiled is None:
        pytest.skip("tdtp_core.sql._sqliterows was not built here")
    return str(request.param)


@pytest.mark.usefixtures("copy_path")
def test_copy_stores_what_the_typed_path_stores(tmp_path: Path) -> None:
    path = tmp_path / "src.db"
    rows, typed, copied = _load_both(_source(path, _canonical_rows()), path)
    assert rows == len(_canonical_rows())
    assert _stored(copied, "src") == _stored(typed, "src")


@pytest.mark.parametrize(("column", "value"), ODD, ids=[f"{c}={v!r}" for c, v in ODD])
@pytest.mark.usefixtures("copy_path")
def test_copy_leaves_a_value_it_cannot_prove_to_the_typed_path(
        tmp_path: Path, column: str, value: Any) -> None:
    path = tmp_path / "src.db"
    url = _source(path, [*_canonical_rows(), _row(**{column: value})])
    adapter = get_host().adapter_for_url(url)
    try:
        ws = Workspace()
        schema = adapter.read("src").schema
        ws.create("src", schema)
        assert ws.copy_sqlite("src", path, "src", schema.names) is None
        assert ws.count("src") == 0
    finally:
        adapter.close()


@pytest.mark.usefixtures("copy_path")
def test_copy_resumes_the_open_transaction(tmp_path: Path) -> None:
    path = tmp_path / "src.db"
    _source(path, _canonical_rows())
    ws = Workspace()
    ws.create("other", Schema([Field("x", "INTEGER")]))
    ws.begin()
    ws.inserter("other")([(1,)])
    schema = Schema([Field("id", "INTEGER"), *(Field(n, "TEXT") for n in ("t",))])
    ws.create("src", schema)
    assert ws.copy_sqlite("src", path, "src", ["id", "t"]) == len(_canonical_rows())
    assert ws.conn.in_transaction
    ws.commit()
    assert ws.count("other") == 1


@pytest.mark.usefixtures("copy_path")
def test_a_missing_source_table_is_left_to_the_typed_path(tmp_path: Path) -> None:
    path = tmp_path / "src.db"
    _source(path, [])
    ws = Workspace()
    ws.create("gone", Schema([Field("id", "INTEGER")]))
    assert ws.copy_sqlite("gone", path, "no_such_table", ["id"]) is None


_storage_values = st.one_of(
    st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False), st.text(max_size=8), st.binary(max_size=4),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?)?"
                  r"\Z"),
    st.sampled_from(["2024-02-29 23:59:59", "2023-02-29", "1.5", "12", "0", "1"]))


@pytest.mark.usefixtures("copy_path")
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_storage_values, min_size=len(COLUMNS), max_size=len(COLUMNS)),
                min_size=1, max_size=4))
def test_copy_never_stores_what_the_typed_path_would_not(
        tmp_path_factory: pytest.TempPathFactory, rows: list[list[Any]]) -> None:
    path = tmp_path_factory.mktemp("prop") / "src.db"
    url = _source(path, rows)
    try:
        copied_rows, typed, copied = _load_both(url, path)
    except Exception:  # the typed path refuses the data: the copy must not have run
        adapter = get_host().adapter_for_url(url)
        try:
            schema = adapter.read("src").schema
        finally:
            adapter.close()
        ws = Workspace()
        ws.create("src", schema)
        assert ws.copy_sqlite("src", path, "src", schema.names) is None
        return
    if copied_rows is not None:
        assert _stored(copied, "src") == _stored(typed, "src")


# ------------------------------------------------------------------------ writing

SCHEMA = Schema([
    Field("id", "INTEGER"), Field("amount", "DECIMAL", precision=12, scale=2),
    Field("loose", "DECIMAL", precision=20, scale=0), Field("score", "REAL"),
    Field("flag", "BOOLEAN"), Field("day", "DATE"),
    Field("at", "TIMESTAMP", timezone="UTC"), Field("naive", "TIMESTAMP"),
    Field("note", "TEXT")])


def _values(n: int) -> Iterator[tuple[Any, ...]]:
    from datetime import UTC, date, datetime

    amounts = [Decimal("12.34"), Decimal("5"), Decimal("0.125"), Decimal("-1.50"),
               Decimal("12345678901234567.89")]
    notes = ["plain", "a|b", "back\\slash", "x & y < z", "", None, "ещё"]
    for i in range(n):
        yield (i, amounts[i % 5], Decimal(i * 7) if i % 3 else Decimal("2.5"), i / 7,
               i % 2 == 0, date(2024, 1 + i % 12, 1 + i % 28),
               datetime(2024, 2, 29, 12, 0, i % 60, (i * 1000) % 1_000_000, tzinfo=UTC),
               datetime(2020, 1, 1, 0, 0, i % 60), notes[i % len(notes)])


#: Without the zone-less timestamp: every column has a code in the compiled lane.
COMPILED_SCHEMA = Schema([f for f in SCHEMA.fields if f.name != "naive"])


def _filled(n: int, batch_size: int = 1000, *, compiled: bool = False) -> Workspace:
    ws = Workspace(batch_size=batch_size)
    if compiled:
        rows = (v[:7] + v[8:] for v in _values(n))
        ws.store("w", TableStream.from_rows(COMPILED_SCHEMA, rows, table="w"))
    else:
        ws.store("w", TableStream.from_rows(SCHEMA, _values(n), table="w"))
    return ws


def _by_values(ws: Workspace) -> list[tuple[list[str], list[int]]]:
    stream = ws.read("w")
    encoder = RowEncoder(stream.schema.fields, "w")
    out = []
    first = 0
    for batch in stream.batches():
        out.append(encoder.encode(list(zip(*batch, strict=True)), first))
        first += len(batch)
    return out


def _by_lane(ws: Workspace) -> list[tuple[list[str], list[int]]]:
    lane = ws.read("w").encoded_rows()
    assert lane is not None
    return [([r.decode() if isinstance(r, bytes) else r for r in e.rows], e.flags)
            for e in lane]


def test_the_encoded_lane_gives_the_rows_the_values_give() -> None:
    ws = _filled(500, batch_size=64)
    assert _by_lane(ws) == _by_values(ws)


def test_forked_workers_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_ROWS", 1)
    monkeypatch.setenv("TDTP_WORKERS", "2")
    ws = _filled(700, batch_size=50)
    assert _by_lane(ws) == _by_values(ws)


@pytest.fixture
def compiled_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the batches the compiled lane renders."""
    counted: list[int] = []
    render = rowtext.encoded_batches

    def spy(*args: Any, **kwargs: Any) -> Any:
        batches = render(*args, **kwargs)
        if batches is None:
            return None
        return (counted.append(len(b.rows)) or b for b in batches)

    monkeypatch.setattr(rowtext, "encoded_batches", spy)
    return counted


def test_the_compiled_lane_gives_the_rows_the_values_give(compiled_batches: list[int]) -> None:
    ws = _filled(500, batch_size=64, compiled=True)
    assert _by_lane(ws) == _by_values(ws)
    assert sum(compiled_batches) == 500


def test_forked_workers_render_in_c_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_ROWS", 1)
    monkeypatch.setenv("TDTP_WORKERS", "2")
    ws = _filled(700, batch_size=50, compiled=True)
    assert _by_lane(ws) == _by_values(ws)


def test_the_default_workspace_spills_instead_of_holding_everything() -> None:
    ws = Workspace()
    assert ws.conn.execute("PRAGMA cache_size").fetchone()[0] < 0  # a bounded cache
    assert ws.conn.execute("PRAGMA database_list").fetchone()[2] == ""  # temporary db


# ---------------------------------------------------------------------- in a run

PIPELINE = """
name: copy
sources:
  - name: src
    url: {url}
    table: src
transform:
  result_table: out
  sql: SELECT id, i, d, ts FROM src ORDER BY id
outputs:
  - type: tdtp
    destination: out/out.tdtp.xml
"""


def _output_rows(tmp_path: Path) -> list[tuple[Any, ...]]:
    from tdtp_core import read_packets

    return read_packets(*sorted((tmp_path / "out").glob("out*.xml"))).rows()


def test_a_run_copies_an_sqlite_table_without_the_row_path(
        tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _source(tmp_path / "src.db", _canonical_rows())

    def refuse(self: Workspace, table: str) -> Any:
        raise AssertionError(f"{table} went through the row path")

    monkeypatch.setattr(Workspace, "inserter", refuse)
    summary = run(PIPELINE.format(url=url))
    summary.raise_for_error()
    assert summary.sources[0].rows == len(_canonical_rows())
    assert len(_output_rows(tmp_path)) == len(_canonical_rows())


def test_a_run_falls_back_to_the_row_path_for_odd_values(tmp_path: Path, run: Any) -> None:
    from datetime import UTC, datetime

    url = _source(tmp_path / "src.db", [_row(i=1, d=2**53 + 1, ts="2024-02-29T10:00:00")])
    summary = run(PIPELINE.format(url=url))
    summary.raise_for_error()
    assert _output_rows(tmp_path) == [
        (0, 1, Decimal(2**53 + 1), datetime(2024, 2, 29, 10, tzinfo=UTC))]


# ------------------------------------------------------- result storage classes


def _stepped(*sqls: str) -> Workspace:
    from tdtp_core.pipeline.workspace import Step

    ws = Workspace()
    ws.store("t", TableStream.from_rows(
        Schema([Field("id", "INTEGER"), Field("amount", "DECIMAL", precision=8, scale=2)]),
        [(1, Decimal("1.50")), (2, Decimal("2.25"))], table="t"))
    for k, sql in enumerate(sqls):
        ws.run_step(Step(f"r{k}", sql), {})
    return ws


def test_a_compound_select_is_typed_by_all_its_rows() -> None:
    ws = _stepped("SELECT id FROM t UNION ALL SELECT 'n/a'")
    assert ws.schema("r0")[0].type == "TEXT"
    assert sorted(ws.read("r0").rows()) == [("1",), ("2",), ("n/a",)]


def test_a_column_of_an_earlier_step_keeps_what_it_holds() -> None:
    ws = _stepped("SELECT CASE WHEN id = 1 THEN id ELSE 'x' END AS v FROM t",
                  "SELECT v FROM r0")
    assert ws.schema("r1")[0].type == "TEXT"
    assert ws.read("r1").rows() == [("1",), ("x",)]
