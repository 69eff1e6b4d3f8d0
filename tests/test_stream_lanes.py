"""The stream's optional lanes: offered, taken once, never passed on to derived streams."""

from __future__ import annotations

import pytest

from tdtp_core.errors import TdtpError
from tdtp_core.stream import CellColumns, EncodedRows, TableStream
from tdtp_core.types import Field, Schema

SCHEMA = Schema([Field("id", "INTEGER"), Field("name", "TEXT")])


def _stream() -> TableStream:
    return TableStream(
        SCHEMA, iter([[(1, "a")], [(2, "b"), (3, "c")]]), table="t",
        encoded=lambda replace: iter([EncodedRows(["1\x00a"], [0, 0]),
                                      EncodedRows(["2\x00b", "3\x00c"], [0, 0])]),
        cells=[lambda: iter([CellColumns([["1", "2"], ["a", ""]], SCHEMA)])],
    )


def test_a_lane_is_taken_instead_of_the_batches_and_counts_rows() -> None:
    s = _stream()
    seen: list[int] = []
    s.progress = seen.append
    lane = s.encoded_rows()
    assert lane is not None
    assert [e.rows for e in lane] == [["1\x00a"], ["2\x00b", "3\x00c"]]
    assert seen == [1, 2]
    with pytest.raises(TdtpError, match="already consumed"):
        list(s.batches())
    assert s.cell_parts() is None  # a consumed stream offers no other lane


def test_derived_streams_offer_batches_only() -> None:
    s = _stream()
    derived = s.derive(s.batches())
    assert derived.encoded_rows() is None and derived.cell_parts() is None
    assert derived.rows() == [(1, "a"), (2, "b"), (3, "c")]


def test_cell_parts_report_rows_through_advance() -> None:
    s = _stream()
    seen: list[int] = []
    s.progress = seen.append
    parts = s.cell_parts()
    assert parts is not None
    (cells,) = list(parts[0]())
    assert cells.decode(0) == [1, 2] and cells.decode(1) == ["a", ""]
    s.advance(len(cells))
    assert seen == [2]


def test_a_bad_cell_names_the_part_and_row() -> None:
    cells = CellColumns([["1", "x"]], Schema([Field("id", "INTEGER")]), "p.xml", 40)
    with pytest.raises(TdtpError, match=r"p\.xml row 42"):
        cells.decode(0)
