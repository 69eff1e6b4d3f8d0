"""Row strings: cells joined with ``|``, escaped with ``\\`` (spec §2.1–2.2).

The writer escapes a whole part in a few ``str.replace`` calls instead of per cell: rows
arrive with cells joined by U+0000 and rows joined by U+0001, two characters XML cannot
carry and so can never be data (DECISIONS 2). The reader decodes with ``str.split`` and
takes the per-character path only for rows holding a backslash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import repeat

from tdtp_core.values import NULL_SENTINEL

CELL_SEP = "\x00"
ROW_SEP = "\x01"


def escape_cell(value: str) -> str:
    """One cell's TDTP escaping: ``\\`` → ``\\\\``, ``|`` → ``\\|``, LF → ``\\n``."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "|" in value:
        value = value.replace("|", "\\|")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    return value


def join_row(cells: Iterable[str]) -> str:
    return "|".join(map(escape_cell, cells))


def escape_column(cells: list[str]) -> tuple[list[str], bool]:
    """TDTP-escape a column of text cells at once; also tell whether XML escaping will
    be needed (``& < >`` or CR present). Only text columns can need either."""
    joined = CELL_SEP.join(cells)
    if "\\" in joined or "|" in joined or "\n" in joined:
        joined = joined.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")
        cells = joined.split(CELL_SEP)
    xml = "&" in joined or "<" in joined or ">" in joined or "\r" in joined
    return cells, xml


def join_part(rows: list[str], null_marker: str) -> str:
    """Rows in separator form (cells already escaped) → TDTP row strings, one per line.

    LF can separate rows here because an escaped row never contains a raw LF; this is
    exactly the text the data hash and the compressed payload cover (spec §4.1, §6.3).
    """
    text = ROW_SEP.join(rows).replace(CELL_SEP, "|").replace(ROW_SEP, "\n")
    if NULL_SENTINEL in text:
        text = text.replace(NULL_SENTINEL, escape_cell(null_marker))
    return text


def xml_escape_rows(text: str) -> str:
    """The ``<R>`` text layer: only ``& < >`` and CR are escaped (DECISIONS 1)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#xD;")
    return text


def decode_row(row: str) -> list[str]:
    """Split one row string into cells (reference ``GetRowValues``; spec §2.1)."""
    if "\\" not in row:
        return row.split("|")
    values: list[str] = []
    buf: list[str] = []
    escaped = False
    for ch in row:
        if escaped:
            buf.append("\n" if ch == "n" else ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            values.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if escaped:
        buf.append("\\")
    values.append("".join(buf))
    return values


#: Placeholders for escaped ``\\`` and ``\|`` while a part is split into cells; like the
#: separators above they cannot occur in text read from XML.
ESC_BACKSLASH = "\x00"
ESC_PIPE = "\x01"
_ROW_BREAK = "\x02"
_OTHER_ESCAPE = re.compile("\\\\([^\x02])")


class CellCountError(ValueError):
    """Row ``index`` has ``count`` cells where the schema has a different number."""

    def __init__(self, index: int, count: int) -> None:
        super().__init__(f"row {index + 1} has {count} values")
        self.index = index
        self.count = count


def split_columns(
    rows: list[str], nfields: int, *, pad: bool = False
) -> tuple[list[list[str]], bool]:
    """Split a part's row strings straight into columns with whole-text operations.

    Escapes are resolved on the joined text, every row's separators are counted in one
    C-level pass, and columns are slices of one flat split, so no per-row list is built.
    Returns the columns and whether they may hold the placeholders
    :data:`ESC_BACKSLASH` / :data:`ESC_PIPE` (see :func:`restore_column`). ``pad`` fills
    short rows with empty cells (compact packets may omit trailing gaps).
    """
    if not rows:
        return [[] for _ in range(nfields)], False
    text = _ROW_BREAK.join(rows)
    escaped = "\\" in text
    if escaped:
        text = text.replace("\\\\", ESC_BACKSLASH).replace("\\|", ESC_PIPE)
        text = text.replace("\\n", "\n")
        if "\\" in text:
            text = _OTHER_ESCAPE.sub(r"\1", text)
        rows = text.split(_ROW_BREAK)
    want = nfields - 1
    counts = set(map(str.count, rows, repeat("|")))
    if counts != {want}:
        split = [r.split("|") for r in rows]
        for i, cells in enumerate(split):
            if len(cells) > nfields or (len(cells) < nfields and not pad):
                raise CellCountError(i, len(cells))
            if len(cells) < nfields:
                cells.extend([""] * (nfields - len(cells)))
        return [list(col) for col in zip(*split, strict=False)], escaped
    flat = text.replace(_ROW_BREAK, "|").split("|") if len(rows) > 1 else text.split("|")
    return [flat[i::nfields] for i in range(nfields)], escaped


def restore_column(cells: Sequence[str]) -> Sequence[str]:
    """Undo the placeholders of :func:`split_columns` in one column."""
    joined = _ROW_BREAK.join(cells)
    if ESC_BACKSLASH not in joined and ESC_PIPE not in joined:
        return cells
    return joined.replace(ESC_BACKSLASH, "\\").replace(ESC_PIPE, "|").split(_ROW_BREAK)
