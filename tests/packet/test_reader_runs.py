"""The reader's bulk paths give exactly what reading row by row gives, wherever the
parser's blocks, the splitter's runs and the batches fall, and a part is still checked
whole before its first row comes out, also when it is too big to hold and is read twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tdtp_core import (
    Field,
    IntegrityError,
    PacketError,
    Schema,
    SchemaError,
    TableStream,
    read_packets,
)
from tdtp_core.packet import encode_packets, parse_packet
from tdtp_core.packet.encode import (
    CellCountError,
    check_cells,
    decode_row,
    join_row,
    restore_column,
    split_columns,
)

from .support import TWO_FIELDS, assert_rows_equal, sizes
from .test_vectors import ONE_TEXT

Build = Callable[..., bytes]
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: What a row string can hold once XML is decoded: separators, escapes, line breaks,
#: wide characters (no U+0000–U+0002, which XML cannot carry).
ROW_CHARS = st.sampled_from(list("ab |\\n\n\r\t\u00e9\u0436\U0001f600x&<"))
cell_texts = st.text(ROW_CHARS, max_size=6)


# ------------------------------------------------------------------ split_columns


def _row_by_row(rows: list[str], nfields: int, pad: bool) -> list[list[str]] | CellCountError:
    """Spec §2.1's GetRowValues per row: the columns, or the first row with a bad count."""
    out = []
    for i, row in enumerate(rows):
        cells = decode_row(row)
        if len(cells) > nfields or (len(cells) < nfields and not pad):
            return CellCountError(i, len(cells))
        out.append(cells + [""] * (nfields - len(cells)))
    return [[r[j] for r in out] for j in range(nfields)]


@st.composite
def row_sets(draw: Any) -> tuple[list[str], int, bool]:
    nfields = draw(st.integers(1, 5))
    good = st.lists(cell_texts, min_size=nfields, max_size=nfields).map(join_row)
    rows = draw(st.lists(good | st.text(ROW_CHARS, max_size=12), max_size=25)
                | st.lists(good, max_size=25))
    return rows, nfields, draw(st.booleans())


@SETTINGS
@given(row_sets())
@example((["a|b|c", "d"], 2, False))  # right in total, wrong row by row
@example((["a|b", "c|d|e", "f"], 2, True))
@example((["a\\", "b\\\\|c", "\\|\\n|x"], 2, False))
@example((["", "", ""], 1, False))
def test_split_columns_equals_decode_row(case: tuple[list[str], int, bool]) -> None:
    rows, nfields, pad = case
    expected = _row_by_row(rows, nfields, pad)
    if isinstance(expected, CellCountError):
        for check in (split_columns, check_cells):
            with pytest.raises(CellCountError) as exc_info:
                check(rows, nfields, pad=pad)
            assert (exc_info.value.index, exc_info.value.count) == (
                expected.index, expected.count)
        return
    check_cells(rows, nfields, pad=pad)
    columns, placeholders = split_columns(rows, nfields, pad=pad)
    if placeholders:  # otherwise the columns must be final as they are
        columns = [list(restore_column(c)) for c in columns]
    assert columns == expected


# ------------------------------------------------------------ whole packets, any sizes

SCHEMA = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT"),
    Field("amount", "DECIMAL", precision=12, scale=2),
    Field("score", "REAL"),
    Field("at", "TIMESTAMP", timezone="UTC"),
    Field("ok", "BOOLEAN"),
])
_START = datetime(2024, 1, 1, tzinfo=UTC)

row_values = st.tuples(
    st.integers(-(2**63), 2**63 - 1),
    st.none() | st.text(ROW_CHARS, max_size=8) | st.sampled_from(["[NULL]", "", "кириллица"]),
    st.none() | st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False),
    st.none() | st.floats(allow_nan=False) | st.sampled_from([float("nan"), float("inf")]),
    st.none() | st.integers(0, 10**9).map(lambda s: _START + timedelta(seconds=s))
    | st.integers(0, 10**12).map(lambda us: _START + timedelta(microseconds=us)),
    st.none() | st.booleans(),
)


def _rows(n: int) -> list[tuple[Any, ...]]:
    """Deterministic rows with escapes, markers, NULLs and wide characters."""
    notes = [None, "", "a|b", "c:\\dir\\", "line\nbreak", "[NULL]", "ещё", "&<>", "x\\|y"]
    return [(i, notes[i % 9], Decimal(i * 7 % 1000).scaleb(-2), i / 3,
             _START + timedelta(seconds=37 * i), i % 2 == 0) for i in range(n)]


def _packet(rows: list[tuple[Any, ...]], **options: Any) -> bytes:
    (data,) = encode_packets(TableStream.from_rows(SCHEMA, rows, table="t"),
                             part_size=10**9, **options)
    return data


@SETTINGS
@given(rows=st.lists(row_values, max_size=40), feed=st.sampled_from([1, 5, 64, 700, 65_536]),
       batch=st.sampled_from([1, 3, 7, 5000, 0]), hold=st.sampled_from([1, 40, 10**6]),
       integrity=st.booleans())
def test_any_blocks_runs_and_batches_read_the_same(
    rows: list[tuple[Any, ...]], feed: int, batch: int, hold: int, integrity: bool
) -> None:
    data = _packet(rows, integrity=integrity)
    with sizes(feed=feed, hold=hold):
        got = read_packets(data, batch_size=batch).rows()
        raw = read_packets(data, batch_size=batch, raw=True).rows()
        texts = parse_packet(data).rows
    assert_rows_equal(rows, got)
    assert raw == read_packets(data, raw=True).rows()
    assert texts == parse_packet(data).rows


@pytest.mark.parametrize("hold", [1, 10**6])
def test_rows_before_the_envelope_are_read_under_the_final_one(
    make_packet: Build, hold: int
) -> None:
    """<Data> first, then the schema and the header: rows wait for them."""
    body = "".join(f"<R>{i}|n{i}</R>" for i in range(300))
    packet = make_packet(rows=[], records=False).replace(b"<Data></Data>", b"")
    packet = packet.replace(b"<Header>", f"<Data>{body}</Data><Header>".encode(), 1)
    with sizes(feed=16, hold=hold):
        assert read_packets(packet, batch_size=7).rows() == [(i, f"n{i}") for i in range(300)]


@pytest.mark.parametrize("hold", [1, 10**6])
def test_a_schema_after_the_rows_wins(make_packet: Build, hold: int) -> None:
    """A second <Schema> after <Data> replaces the first for every row (last wins)."""
    rows = [f"{i}|n{i}" for i in range(300)]
    packet = make_packet(rows=rows, fields=ONE_TEXT).replace(
        b"</DataPacket>", b"<Schema>" + TWO_FIELDS.encode() + b"</Schema></DataPacket>")
    with sizes(feed=16, hold=hold):
        assert read_packets(packet, batch_size=7).rows() == [(i, f"n{i}") for i in range(300)]


def test_compact_parts_expand_across_runs(make_packet: Build) -> None:
    schema = Schema([Field("dept", "TEXT"), Field("id", "INTEGER")])
    rows = [(f"d{i // 50}", i) for i in range(400)]
    (data,) = encode_packets(TableStream.from_rows(schema, rows, table="t"), compact=True,
                             fixed_fields=["dept"], part_size=10**9)
    assert b"<R>|1</R>" in data
    for hold in (1, 10**6):
        with sizes(feed=50, hold=hold):
            assert read_packets(data, batch_size=7).rows() == rows


#: A fixed (compact) text field and an integer.
COMPACT_FIELDS = ('<Field name="f" type="TEXT" fixed="true"></Field>'
                  '<Field name="g" type="INTEGER"></Field>')


@pytest.mark.parametrize("hold", [1, 10**6])
def test_compact_carry_starts_every_reading(make_packet: Build, hold: int) -> None:
    """Read twice (too big to hold), the second reading starts from ``carry`` again."""
    rows = [f"|{i}" for i in range(20)] + ["Z|20"] + [f"|{i}" for i in range(21, 40)]
    packet = make_packet(version="1.3.1", fields=COMPACT_FIELDS, rows=rows,
                         data_attrs=' compact="true" carry="X|"')
    expected = [("X" if i < 20 else "Z", i) for i in range(40)]
    with sizes(feed=20, hold=hold):
        assert read_packets(packet, batch_size=3).rows() == expected


@pytest.mark.parametrize("hold", [1, 10**6])
def test_compact_tail_gap_in_the_last_run_is_found(make_packet: Build, hold: int) -> None:
    rows = ["a|0", *(f"|{i}" for i in range(1, 30))]
    packet = make_packet(version="1.3.1", fields=COMPACT_FIELDS, rows=rows,
                         data_attrs=' compact="true" tail="true"')
    with sizes(feed=20, hold=hold), pytest.raises(PacketError, match="compact tail row"):
        read_packets(packet, batch_size=4).rows()


# ------------------------------------------------ checks before the first row, named


def _first_batch(data: bytes, **options: Any) -> Any:
    return next(iter(read_packets(data, **options).batches()))


@pytest.mark.parametrize("hold", [1, 10**6])
def test_tampered_last_row_fails_before_any_row(hold: int) -> None:
    rows = _rows(500)
    data = _packet(rows, integrity=True)
    assert data.count(b"<R>499|") == 1
    tampered = data.replace(b"<R>499|", b"<R>498|")
    with sizes(feed=256, hold=hold):
        assert_rows_equal(rows[:7], _first_batch(data, batch_size=7))
        with pytest.raises(IntegrityError, match="data hash mismatch"):
            _first_batch(tampered, batch_size=7)


@pytest.mark.parametrize("hold", [1, 10**6])
def test_bad_cell_count_late_in_a_part_fails_before_any_row(
    make_packet: Build, packet_file: Callable[..., Any], hold: int
) -> None:
    rows = [f"{i}|n{i}" for i in range(300)]
    rows[249] = "249|n|extra"
    path = packet_file(make_packet(rows=rows))
    with sizes(feed=64, hold=hold), pytest.raises(SchemaError) as exc_info:
        next(iter(read_packets(path, batch_size=7).batches()))
    assert "expected 2 values, got 3" in str(exc_info.value)
    assert f"{path} row 250" in str(exc_info.value)


def test_integrity_is_checked_before_cell_counts(make_packet: Build) -> None:
    """Appendix A's order: a tampered part with a broken row is an integrity error."""
    rows = _rows(50)
    data = _packet(rows, integrity=True).replace(b"<R>49|", b"<R>49|x|")
    with sizes(feed=100, hold=1), pytest.raises(IntegrityError):
        _first_batch(data, batch_size=7)


@pytest.mark.parametrize("batch", [1, 7, 5000])
def test_bad_value_names_its_row_across_runs(
    make_packet: Build, packet_file: Callable[..., Any], batch: int
) -> None:
    rows = [f"{i}|n{i}" for i in range(300)]
    rows[276] = "27x|n"
    path = packet_file(make_packet(rows=rows))
    with sizes(feed=64, hold=1), pytest.raises(SchemaError) as exc_info:
        read_packets(path, batch_size=batch).rows()
    text = str(exc_info.value)
    assert f"{path} row 277" in text and "'id'" in text and "27x" in text


def test_compressed_part_reads_in_batches(zstd_codec: Any) -> None:
    rows = _rows(300)
    data = _packet(rows, compress="zstd")
    with sizes(feed=128, hold=1):
        assert_rows_equal(rows, read_packets(data, batch_size=7).rows())


def test_a_part_read_twice_must_not_change_in_between(
    make_packet: Build, packet_file: Callable[..., Any]
) -> None:
    data = make_packet(rows=[f"{i}|n" for i in range(3000)])
    path = packet_file(data)
    with sizes(feed=64, hold=1):
        batches = iter(read_packets(path, batch_size=7).batches())
        assert next(batches)[0] == (0, "n")
        # Two rows far past the file's buffer become one of the same size.
        path.write_bytes(data.replace(b"<R>2900|n</R><R>2901|n</R>",
                                      b"<R>2900|nnnnnnnnnnnnnnn</R>"))
        with pytest.raises(PacketError, match="changed while it was read"):
            list(batches)
