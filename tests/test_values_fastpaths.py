"""The column decoders' fast paths give exactly what decoding cell by cell gives.

A column of cell texts is decoded at once (a whole-column proof, then a C-level
``map``); the oracle here decodes each cell on its own with the field's text parser, in
the order of spec §2.4 (marker, empty cell, U+0000, value). Columns mix canonical texts,
which take the fast paths, with every odd spelling the strict syntax must refuse or a
lenient builtin would accept (signs, exponents, spaces, underscores, non-ASCII digits,
infinities), so both the proofs and their fallbacks are exercised.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tdtp_core import Field, SpecialValues
from tdtp_core.values import CellError, column_decoder, special_values_map, text_parser

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

ODD_NUMBERS = ["", "\x00", "+5", "-0", "007", " 5", "5 ", "1_000", "٣", "١٢", "1e3", "1E+3",
               "-1e-3", "0x10", "0x1p-2", "-", "+", "--1", "+-1", "9223372036854775807",
               "9223372036854775808", "-9223372036854775808", "-9223372036854775809", ".5",
               "5.", ".", "e5", "1e", "1.2.3", "inf", "-Infinity", "+inf", "nan", "NaN",
               "1e400", "-1e400", "1e-400", "１２", "1\u00a0", "[NULL]", "INF", "-INF"]
ODD_DATES = ["", "\x00", "2024-02-30", "2024-1-01", "20240105", "2024-01-01T10:00:00Z",
             "2024-01-01T10:00:00+03:00", "0000-00-00", "２０２４-01-01", "2024-01-01 ",
             "9999-12-31", "0001-01-01", "2024-13-01", "2024/01/01"]
ODD_INSTANTS = ["", "\x00", "2024-01-01", "2024-01-01 10:00:00", "2024-01-01T10:00:00",
                "2024-01-01T10:00:00.5Z", "2024-01-01T10:00:00.000100Z",
                "2024-01-01T10:00:00+03:00", "2024-01-01T10:00:00-05:30",
                "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z",
                "2024-01-01t00:00:00z", "2024-01-01T00:00Z", "２０２４-01-01T00:00:00Z",
                "2024-01-01T00:00:00.Z", "0000-00-00", "0001-01-01T00:00:00Z",
                "9999-12-31T23:59:59Z", "2024-01-01T00:00:0aZ", "2024-01-01T00:00:00Z ",
                "2024-01-01T00:00:00Zx", "2024-02-30T00:00:00Z", "1-01-01T00:00:00Z"]
ODD_BOOLS = ["", "\x00", "1", "0", "true", "false", "TRUE", "False", "yes", " 1", "01"]
ODD_BLOBS = ["", "\x00", "a", "====", "YQ==\n", "YQ", "[NULL]", "Y Q==", "\u00e9"]
ODD_TIMES = ["", "\x00", "0000-01-01T08:00:00Z", "0001-01-01T08:00:00Z", "10:00 AM",
             "10:00:00 PM", "25:00:00", "10:00:00.5", "10:00:00z", "[NULL]", "1000"]
ODD_TEXT = ["", "\x00", "[NULL]", "[NULL:0]", "NaN", "INF", "-INF", "0000-00-00", "a|b",
            "кириллица", "\U0001f600", " ", "\\"]

ALL_MARKERS = SpecialValues(null="[NULL]", infinity="INF", neg_infinity="-INF", nan="NaN",
                            no_date="0000-00-00")
#: Markers that are also valid values of the field: the marker must win.
VALUE_MARKERS = SpecialValues(null="0", infinity="1", nan="2024-01-02")

aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=3))]))


def _instant_text(value: datetime) -> str:
    """The writer's form (whole seconds), or a fraction, or an offset."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.replace(microsecond=0).isoformat() + "Z"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _numbers(draw_float: bool) -> st.SearchStrategy[str]:
    ints = st.integers(-(2**64), 2**64).map(str)
    if not draw_float:
        return ints
    floats = st.floats(allow_nan=False, allow_infinity=False)
    return (floats.map(repr) | floats.map("{:.2f}".format) | floats.map("{:e}".format)
            | st.decimals(allow_nan=False, allow_infinity=False).map(str) | ints)


def _cells(canonical: st.SearchStrategy[str], odd: Sequence[str]) -> st.SearchStrategy[list[str]]:
    """Mostly all-canonical columns (the fast path), sometimes with odd cells mixed in."""
    clean = st.lists(canonical, max_size=40)
    mixed = st.lists(canonical | st.sampled_from(odd), max_size=40)
    return clean | mixed


COLUMNS: dict[str, tuple[Field, st.SearchStrategy[list[str]]]] = {
    "INTEGER": (Field("i", "INTEGER"), _cells(_numbers(False), ODD_NUMBERS)),
    "INTEGER markers": (Field("i", "INTEGER", special_values=ALL_MARKERS),
                        _cells(_numbers(False), ODD_NUMBERS)),
    "INTEGER value markers": (Field("i", "INTEGER", special_values=VALUE_MARKERS),
                              _cells(st.sampled_from(["0", "1", "2", "-1"]), ODD_NUMBERS)),
    "REAL": (Field("r", "REAL"), _cells(_numbers(True), ODD_NUMBERS)),
    "REAL value markers": (Field("r", "REAL", special_values=VALUE_MARKERS),
                           _cells(st.sampled_from(["0", "1", "0.5"]), ODD_NUMBERS)),
    "DATE value markers": (Field("a", "DATE", special_values=VALUE_MARKERS),
                           _cells(st.sampled_from(["2024-01-02", "2024-01-03"]), ODD_DATES)),
    "REAL markers": (Field("r", "REAL", special_values=ALL_MARKERS),
                     _cells(_numbers(True), ODD_NUMBERS)),
    "DECIMAL": (Field("d", "DECIMAL", precision=12, scale=2),
                _cells(_numbers(True), ODD_NUMBERS)),
    "DECIMAL markers": (Field("d", "DECIMAL", special_values=ALL_MARKERS),
                        _cells(_numbers(True), ODD_NUMBERS)),
    "DATE": (Field("a", "DATE"), _cells(st.dates().map(date.isoformat), ODD_DATES)),
    "DATE markers": (Field("a", "DATE", special_values=ALL_MARKERS),
                     _cells(st.dates().map(date.isoformat), ODD_DATES)),
    "TIMESTAMP aware": (Field("t", "TIMESTAMP", timezone="UTC"),
                        _cells(aware.map(_instant_text), ODD_INSTANTS)),
    "TIMESTAMP naive": (Field("t", "TIMESTAMP"), _cells(aware.map(_instant_text), ODD_INSTANTS)),
    "DATETIME markers": (Field("t", "DATETIME", special_values=ALL_MARKERS),
                         _cells(aware.map(_instant_text), ODD_INSTANTS)),
    "BOOLEAN": (Field("b", "BOOLEAN"), _cells(st.sampled_from(["1", "0"]), ODD_BOOLS)),
    "BLOB": (Field("x", "BLOB"), _cells(st.binary(max_size=6).map(_b64), ODD_BLOBS)),
    "BLOB markers": (Field("x", "BLOB", special_values=ALL_MARKERS),
                     _cells(st.binary(max_size=6).map(_b64), ODD_BLOBS)),
    "TIME": (Field("m", "TIMESTAMP", subtype="time"),
             _cells(st.times().map(time.isoformat), ODD_TIMES)),
    "TEXT": (Field("s", "TEXT"), _cells(st.text(max_size=8), ODD_TEXT)),
    "TEXT markers": (Field("s", "TEXT", special_values=ALL_MARKERS),
                     _cells(st.text(max_size=8), ODD_TEXT)),
}


def _one_by_one(field: Field, cells: Sequence[str]) -> list[Any] | int:
    """Each cell decoded alone (spec §2.4 order); the index of the first bad cell."""
    parse = text_parser(field)
    specials = special_values_map(field)
    empty: Any = "" if parse is None else None
    if field.kind == "BLOB" and None in specials.values():
        empty = b""  # NULLs are marked, so an empty cell is empty bytes (our writer's)
    out: list[Any] = []
    for i, cell in enumerate(cells):
        if cell in specials:
            out.append(specials[cell])
        elif cell == "\x00":
            out.append(None)
        elif cell == "":
            out.append(empty)
        elif parse is None:
            out.append(cell)
        else:
            try:
                out.append(parse(cell))
            except (ValueError, TypeError, OverflowError):
                return i
    return out


def _exact(value: Any) -> tuple[type, str]:
    """Type and repr: ``Decimal('1.0')`` is not ``Decimal('1.00')``, ``-0.0`` not ``0.0``,
    and a datetime's zone object counts."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return type(value), repr(value) + repr(type(value.tzinfo)) + str(value.tzinfo is UTC)
    return type(value), repr(value)


def _check(field: Field, cells: list[str]) -> None:
    expected = _one_by_one(field, cells)
    decode: Callable[[Sequence[str]], list[Any]] = column_decoder(field)
    if isinstance(expected, int):
        with pytest.raises(CellError) as exc_info:
            decode(cells)
        assert exc_info.value.index == expected
        return
    got = decode(cells)
    assert list(map(_exact, got)) == list(map(_exact, expected))


@pytest.mark.parametrize("kind", list(COLUMNS))
@SETTINGS
@given(data=st.data())
def test_column_decode_equals_cell_by_cell(kind: str, data: st.DataObject) -> None:
    field, columns = COLUMNS[kind]
    _check(field, data.draw(columns))


@pytest.mark.parametrize("kind", [k for k in COLUMNS if "markers" not in k])
@pytest.mark.parametrize("odd", sorted({*ODD_NUMBERS, *ODD_DATES, *ODD_INSTANTS, *ODD_BOOLS,
                                         *ODD_BLOBS, *ODD_TIMES}))
def test_one_odd_cell_among_canonical_ones(kind: str, odd: str) -> None:
    """Every odd spelling, placed after canonical cells, in every column type."""
    field, _ = COLUMNS[kind]
    canonical = {"INTEGER": "12", "REAL": "1.5", "DECIMAL": "1.50", "DATE": "2024-01-02",
                 "TIMESTAMP aware": "2024-01-02T03:04:05Z",
                 "TIMESTAMP naive": "2024-01-02T03:04:05Z", "BOOLEAN": "1", "TEXT": "x",
                 "BLOB": "YQ==", "TIME": "10:11:12"}[kind]
    _check(field, [canonical, canonical, odd, canonical])


@SETTINGS
@given(st.lists(aware, min_size=1, max_size=30))
@example([datetime(2024, 1, 1, tzinfo=UTC)])
def test_canonical_instants_keep_the_utc_zone_object(values: list[datetime]) -> None:
    cells = [_instant_text(v) for v in values]
    got = column_decoder(Field("t", "TIMESTAMP", timezone="UTC"))(cells)
    assert all(v.tzinfo is UTC for v in got)
    assert got == [v.replace(microsecond=0) for v in values]


def test_fast_paths_take_decimal_text_verbatim() -> None:
    cells = ["1.50", "-0.00", "100", "1E+2", "0.000"]
    got = column_decoder(Field("d", "DECIMAL"))(cells)
    assert list(map(str, got)) == cells
    assert got[1].is_signed()
