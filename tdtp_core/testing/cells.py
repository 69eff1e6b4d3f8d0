"""Packets made from hand-written cell texts, and hypothesis strategies for them.

The packet writer only ever writes canonical cells; a reader or an importer must also
take the odd forms other writers produce (signs, leading zeros, exponents, zone
offsets, seven fraction digits, markers) and refuse the bad ones. Tests of a compiled
import lane compare it with the typed path on such packets. Imports hypothesis: for
test modules only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tdtp_core.packet.encode import NEEDS_XML_ESCAPE
from tdtp_core.stream import EncodedRows, TableStream
from tdtp_core.types import Field, Schema
from tdtp_core.values import HAS_NULL, NULL_SENTINEL

#: A key, then a field of each kind the import lanes take; ``s5`` is limited to five
#: characters and ``nn`` is for a NOT NULL column.
LANE_SCHEMA = Schema([
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


def escape_cell(text: str) -> str:
    """A text as a packet cell carries it."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")


_text = st.one_of(st.just("[NULL]"),
                  st.text(st.sampled_from([*"ab |\\\n\t\r&<>é", "ж", "\U0001f600"]), max_size=6))
_fraction = st.sampled_from(["", ".5", ".120", ".0", ".000000", ".123456"])
#: Cell texts per field of :data:`LANE_SCHEMA` (but the key) in the writer's forms (an
#: ``s5`` text may be over its five characters).
CANONICAL: dict[str, Any] = {
    "i": st.integers(-10**18, 10**18).map(str),
    "r": st.floats(allow_nan=False, allow_infinity=False).map(repr),
    "d": st.one_of(st.integers(-10**8, 10**8).map(lambda c: f"{c / 100:.2f}"),
                   st.sampled_from(["0.10", "-0", "-0.00", "3", "12.5", "0.125"])),
    "b": st.sampled_from(["0", "1"]),
    "dt": st.dates().map(lambda d: d.isoformat()),
    "ts": st.builds(lambda d, frac: d.isoformat()[:19] + frac + "Z", st.datetimes(), _fraction),
    "s": _text.map(escape_cell),
    "s5": _text.map(escape_cell),
    "nn": st.integers(-100, 100).map(str),
}
#: Odd forms the typed path converts or refuses, per field.
ODD_CELLS: dict[str, list[str | None]] = {
    "i": ["+5", "007", "-0", "1234567890123456789", "9223372036854775808", "1.0", "abc"],
    "r": ["1e3", "-0", ".5", "5.", "1E-2", "inf", "nan", "1e400", "1e-400", "x"],
    "d": ["1e2", "007", "+1", "1.", ".5", "abc"],
    "b": ["true", "False", "2", "yes"],
    "dt": ["2023-02-30", "0000-01-01", "2024-1-1"],
    "ts": ["2024-01-01 10:00:00Z", "2024-01-01T10:00:00", "2024-01-01T10:00:00.5",
           "2024-01-01T10:00:00+01:00", "2024-01-01T10:00:00.1234567Z", "2024-01-01T24:00:00Z"],
    "s5": ["abcdef"],
    "nn": [None, "x"],
}
#: (field, odd cell) pairs, for tests that take each once.
ODD_PAIRS = [(name, cell) for name, cells in ODD_CELLS.items() for cell in cells]
_NAMES = list(CANONICAL)


def _with_odd(row: tuple[str | None, ...], odd: tuple[str, str | None] | None,
              ) -> tuple[str | None, ...]:
    if odd is None:
        return row
    cells = list(row)
    cells[_NAMES.index(odd[0])] = odd[1]
    return tuple(cells)


#: A row of cells for :data:`LANE_SCHEMA` without its key: canonical cells or NULL, and
#: in about one row of four an odd cell.
lane_rows = st.builds(
    _with_odd,
    st.tuples(*(st.one_of(st.just(None), cells) if name != "nn" else cells
                for name, cells in CANONICAL.items())),
    st.one_of(st.none(), st.none(), st.none(),
              st.sampled_from(ODD_PAIRS)))


def clean_lane_rows(n: int) -> list[tuple[str | None, ...]]:
    """``n`` rows every lane takes, for :func:`cell_packet` with :data:`LANE_SCHEMA`."""
    return [(str(k), f"{k}.5", f"{k}.25", str(k % 2), "2024-02-29",
             f"2024-02-29T10:00:0{k % 10}.5Z", escape_cell(f"t|{k}\\"), "ab", str(k))
            for k in range(n)]


def with_cell(rows: list[tuple[str | None, ...]], index: int, name: str,
              cell: str | None) -> list[tuple[str | None, ...]]:
    """``rows`` with row ``index``'s cell of field ``name`` replaced."""
    return [_with_odd(row, (name, cell)) if k == index else row for k, row in enumerate(rows)]


def cell_packet(path: Path, rows: Sequence[Sequence[str | None]],
                schema: Schema = LANE_SCHEMA, **write_options: Any) -> list[Path]:
    """A packet set whose rows carry exactly these cell texts (escaped as cells; None
    for NULL) after a key cell numbering the rows, written under ``schema``."""
    lines = []
    flags = [0] * len(schema.fields)
    for key, row in enumerate(rows):
        cells = [str(key), *row]
        for i, cell in enumerate(cells):
            if cell is None:
                flags[i] |= HAS_NULL
            elif any(c in cell for c in "&<>"):
                flags[i] |= NEEDS_XML_ESCAPE
        lines.append("\x00".join(NULL_SENTINEL if c is None else c for c in cells))
    stream = TableStream(schema, [], table="t",
                         encoded=lambda _replace: [EncodedRows(lines, flags)])
    from tdtp_core.packet import write_packets

    return write_packets(stream, path, **write_options)
