"""The compiled row decoder (``tdtp_core.packet.rowdecode``) against the Python path.

For any row strings (canonical cells, odd ones, escapes, markers, wrong cell counts) the
decoder either declines the run (the Python path then decodes it or names the bad cell)
or gives exactly the rows the Python path gives: same values, same types.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tdtp_core import read_packets, write_packets
from tdtp_core.packet import rowdecode
from tdtp_core.packet.encode import escape_cell, restore_column, split_columns
from tdtp_core.stream import TableStream
from tdtp_core.types import Field, Schema, SpecialValues
from tdtp_core.values import column_decoder

pytestmark = pytest.mark.skipif(
    rowdecode.compiled is None and os.environ.get("CI") != "true",
    reason="tdtp_core.packet._rowdecode was not built here (no C compiler)")

FIELDS = [
    Field("i", "INTEGER"), Field("r", "REAL"), Field("d", "DECIMAL", precision=20, scale=4),
    Field("b", "BOOLEAN"), Field("day", "DATE"), Field("ts", "TIMESTAMP"),
    Field("tz", "TIMESTAMP", timezone="UTC"), Field("s", "TEXT"),
]

#: Per field: the forms writers produce, then odd forms (valid or not for the field).
_CANONICAL = {
    "i": st.integers(-2**63, 2**63 - 1).map(str),
    "r": st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr),
                   st.floats(0, 1000).map(repr),
                   st.integers(-10**6, 10**6).map(lambda n: f"{n / 100}")),
    "d": st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    "b": st.sampled_from(["0", "1"]),
    "day": st.dates().map(str),
    "ts": st.datetimes().map(lambda d: d.isoformat() + "Z"),
    "tz": st.datetimes().map(lambda d: d.isoformat(timespec="seconds") + "Z"),
    "s": st.text(st.sampled_from([*"ab|\\n &<>é", "ж", "\U0001f600"]), max_size=6),
}
_ODD = {
    "i": st.sampled_from(["+5", "-0", "007", "12345678901234567890", "1_000", " 5", "1.0"]),
    "r": st.sampled_from(["1e5", "1E-3", ".5", "5.", "-.5e+2", "0x1p3", "1e999", "-1e999",
                          "inf", "NaN", "-Infinity", "1.7976931348623157e308", "4.9e-324",
                          "2.2250738585072011e-308", "9007199254740993", "0.1e-400",
                          "1.00000000000000011102230246251565404236316680908203125",
                          "7.038531e-26", "123456789012345678901234567890e-10"]),
    "d": st.sampled_from(["1e5", "-.5", "5.", "NaN", "Infinity", "1E+2", "0.00000", "x"]),
    "b": st.sampled_from(["true", "false", "TRUE", "False", "yes", "2"]),
    "day": st.sampled_from(["2024-02-30", "0000-01-01", "2024-1-1", "20240101",
                            "2024-01-02T03:04:05Z", "0000-00-00", "2024-02-29"]),
    "ts": st.builds(lambda d, sep, frac, zone: d.isoformat(sep=sep)[:19] + frac + zone,
                    st.datetimes(), st.sampled_from(["T", " "]),
                    st.sampled_from(["", ".5", ".123456", ".1234567", ".", ".000"]),
                    st.sampled_from(["", "Z", "+02:00", "z"])),
    "s": st.sampled_from(["", "\\", "a\\", "[NULL]x"]),
}
_ODD["tz"] = st.one_of(_ODD["ts"], st.sampled_from(["2024-01-01T24:00:00Z", "2024-01-01",
                                                    "2023-02-29T00:00:00",
                                                    "2024-01-01T23:59:60Z"]))


@st.composite
def _rows(draw: st.DrawFn) -> tuple[Schema, list[str]]:
    """Cells mostly in their field's usual form; now and then an odd form, an empty
    cell, the marker, another field's text, or a row missing a cell."""
    marked = draw(st.sets(st.sampled_from([f.name for f in FIELDS])))
    fields = [f.replace(special_values=SpecialValues(null="[NULL]")) if f.name in marked else f
              for f in FIELDS]
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        cells = []
        for f in FIELDS:
            pick = draw(st.integers(0, 60))
            if pick == 0:
                cell = draw(_CANONICAL["s"])
            elif pick == 1:
                cell = ""
            elif pick == 2:
                cell = "[NULL]"
            elif pick <= 5:
                cell = draw(_ODD[f.name])
            else:
                cell = draw(_CANONICAL[f.name])
            cells.append(escape_cell(cell))
        if draw(st.integers(0, 80)) == 0:
            cells = cells[:-1]
        rows.append("|".join(cells))
    return Schema(fields), rows


def _python(schema: Schema, rows: list[str]) -> list[tuple[Any, ...]] | None:
    """What the Python path gives, or None when it refuses the rows."""
    try:
        columns, escaped = split_columns(rows, len(schema.fields))
        if escaped:
            columns = [list(restore_column(c)) for c in columns]
        values = [column_decoder(f)(c) for f, c in zip(schema.fields, columns, strict=True)]
    except Exception:  # a refusal: the compiled decoder must have declined
        return None
    return list(zip(*values, strict=True))


def _typed(rows: list[tuple[Any, ...]]) -> list[tuple[tuple[type, str], ...]]:
    return [tuple((type(v), repr(v)) for v in row) for row in rows]


@settings(max_examples=500, deadline=None)
@given(_rows())
def test_decoded_rows_are_the_python_rows(case: tuple[Schema, list[str]]) -> None:
    schema, rows = case
    decoder = rowdecode.decoder_for(schema)
    assert decoder is not None
    compiled = decoder.decode(rows)
    if compiled is None:
        return  # declined: the Python path decodes the run (or names the bad cell)
    python = _python(schema, rows)
    assert python is not None, "the compiled decoder took rows the Python path refuses"
    assert _typed(compiled) == _typed(python)


def test_canonical_rows_are_taken() -> None:
    decoder = rowdecode.decoder_for(Schema(FIELDS))
    assert decoder is not None
    rows = ["7|2.5|1.2500|1|2024-02-29|2024-01-02T03:04:05.5Z|2024-01-02 03:04:05|a\\|b\\\\c",
            "|||0||||"]
    decoded = decoder.decode(rows)
    assert decoded is not None
    assert _typed(decoded) == _typed(_python(Schema(FIELDS), rows) or [])
    assert decoded[0][2] == Decimal("1.2500") and decoded[0][7] == "a|b\\c"


def test_a_binary_field_leaves_decoding_to_python() -> None:
    assert rowdecode.decoder_for(Schema([Field("x", "BLOB")])) is None


def test_reading_a_packet_gives_the_python_rows(tmp_path: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    schema = Schema(FIELDS)
    from datetime import UTC, date, datetime
    rows = [(n, n / 3, Decimal(n).scaleb(-4), n % 2 == 0, date(2024, 1, 1 + n % 28),
             datetime(2024, 1, 1, 0, 0, n % 60, n), datetime(2024, 1, 1, 0, 0, n % 60, n, UTC),
             None if n % 5 == 0 else f"t|{n}\\") for n in range(300)]
    paths = write_packets(TableStream.from_rows(schema, rows, table="t"),
                          tmp_path / "t.tdtp.xml", part_size=8000)
    compiled = [r for b in read_packets(*paths).batches() for r in b]
    monkeypatch.setattr(rowdecode, "compiled", None)
    python = [r for b in read_packets(*paths).batches() for r in b]
    assert len(paths) > 2
    assert _typed(compiled) == _typed(python) == _typed(rows)
