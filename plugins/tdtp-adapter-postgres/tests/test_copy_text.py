"""COPY text both ways, without a server: the string path equals the decoding path."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tdtp_adapter_postgres import copyout
from tdtp_adapter_postgres.copyin import copy_text
from tdtp_adapter_postgres.copyout import CopyRows, _clean

from tdtp_core.packet.encode import NEEDS_XML_ESCAPE, RowEncoder
from tdtp_core.testing import services
from tdtp_core.types import Field

FIELDS = [Field("id", "INTEGER", key=True), Field("txt", "TEXT"), Field("n", "DECIMAL",
          precision=10, scale=2), Field("r", "REAL"), Field("b", "BOOLEAN"),
          Field("at", "TIMESTAMP")]


def _convert() -> CopyRows:
    return CopyRows("t", FIELDS, [False, True, True, True, True, True],
                    RowEncoder(FIELDS, "t"))


@pytest.mark.parametrize("chunk", [
    b"1\tplain\t1.50\t2.5\t1\t2024-01-01T00:00:00Z\n",
    b"2\tpipe | and \\\\ and \\n\t\\N\t\\N\t0\t\\N\n"
    b"3\t\\\\N\t0.00\t-0\t\\N\t2024-01-01T00:00:00.5Z\n",
    b"4\t& < >\t-1.00\t100\t1\t2000-02-29T23:59:59Z\n",
])
def test_clean_batches_take_the_string_path_and_match_decoding(chunk: bytes) -> None:
    convert = _convert()
    fast = convert(chunk)
    slow = convert._cells(chunk[:-1].decode(), 0)
    assert fast.rows == [r.encode() for r in slow.rows]  # the string path keeps UTF-8
    # The writer asks whether any column needs XML escaping, not which one.
    assert [f & ~NEEDS_XML_ESCAPE for f in fast.flags] == \
        [f & ~NEEDS_XML_ESCAPE for f in slow.flags]
    assert any(f & NEEDS_XML_ESCAPE for f in fast.flags) == \
        any(f & NEEDS_XML_ESCAPE for f in slow.flags)


@pytest.mark.parametrize("chunk", [
    b"1\ttab\\there\t1.00\t1\t1\t\\N\n",  # an escape the string path does not take
    b"1\t[NULL]\t1.00\t1\t1\t\\N\n2\t\\N\t1.00\t1\t1\t\\N\n",  # the marker as text
    b"1\tx\t1.00\t\x011e+20\t1\t\\N\n",  # a value the server flagged
])
def test_other_batches_are_decoded(chunk: bytes) -> None:
    encoded = _convert()(chunk)
    assert len(encoded.rows) == chunk.count(b"\n")


def test_a_flagged_float_is_decoded_and_written_without_exponent() -> None:
    encoded = _convert()(b"1\tx\t1.00\t\x011e+20\t1\t\\N\n")
    assert encoded.rows == ["1\x00x\x001.00\x00100000000000000000000\x001\x00\x02"]


def test_bound_columns_become_copy_text() -> None:
    text = copy_text([
        [1, 2], ["a\tb\\c\nd", None], [Decimal("1.50"), None], [1.5, float("inf")],
        [True, False], [date(2024, 1, 2), None],
        [datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), None], [time(1, 2), None],
        [b"\x00\xff", None], ["2024-01-01T00:00:00Z", "1.25"],
    ])
    assert text == (
        b"1\ta\\tb\\\\c\\nd\t1.50\t1.5\tTrue\t2024-01-02\t2024-01-02T03:04:05.000006+00:00"
        b"\t01:02:00\t\\\\x00ff\t2024-01-01T00:00:00Z\n"
        b"2\t\\N\t\\N\tinf\tFalse\t\\N\t\\N\t\\N\t\\N\t1.25\n")


def test_nulls_are_written_as_backslash_n() -> None:
    assert copy_text([[1], [None]]) == b"1\t\\N\n"


@pytest.mark.parametrize(("text", "clean"), [
    ("\ufffd replacement", True),  # U+FFFD shares the first two UTF-8 bytes: still clean
    ("\ufff0 special", True),
    ("no \ufffe here", False),
    ("nor \uffff", False),
])
def test_noncharacters_leave_the_string_path(text: str, clean: bool) -> None:
    assert _clean(f"1\t{text}\t1.00\t1\t1\t\\N".encode()) is clean


_COPY_BYTES = st.sampled_from([b"a", b"7", b"|", b"&", b"<", b"\\\\", b"\\n", b"\\N", b"\\t",
                               b"\\", b"N", b"[NULL]", b"\x01", b"\r", "é".encode(),
                               "\ufffe".encode(), "\uffff".encode(), "ж".encode()])
_copy_cell = st.one_of(st.just(b"\\N"), st.lists(_COPY_BYTES, max_size=5).map(b"".join))
_copy_batch = st.lists(st.lists(_copy_cell, min_size=3, max_size=3).map(b"\t".join),
                       min_size=1, max_size=6).map(lambda rows: b"\n".join(rows) + b"\n")


@pytest.fixture(scope="module")
def compiled_copytext() -> Any:
    return services.require_compiled(copyout.compiled, "tdtp_adapter_postgres._copytext")


@settings(max_examples=400, deadline=None)
@given(chunk=_copy_batch)
def test_the_compiled_string_path_gives_the_python_bytes(compiled_copytext: Any,
                                                         chunk: bytes) -> None:
    fields = [Field("a", "TEXT"), Field("b", "TEXT"), Field("c", "TEXT")]
    convert = CopyRows("t", fields, [True, False, True], RowEncoder(fields, "t"))
    data = chunk[:-1]
    made = compiled_copytext.packet_rows(data, convert.nullable_bytes)
    if not _clean(data):
        assert made is None
        return
    python = convert._rows(data)
    assert made is not None and (made[0], made[1]) == (python.rows, python.flags)
