"""Row strings: cells joined with ``|``, escaped with ``\\`` (spec §2.1–2.2).

The writer escapes a whole part in a few ``str.replace`` calls instead of per cell: rows
arrive with cells joined by U+0000 (NULL stands as U+0002), characters XML cannot carry
and so can never be data (DECISIONS 2). The reader resolves the escapes of a run
of rows on their joined text and splits it into columns with one ``str.split``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

from tdtp_core.errors import SchemaError
from tdtp_core.types import Field
from tdtp_core.values import NULL_SENTINEL, CellError, column_encoder

CELL_SEP = "\x00"
#: A text column of the batch holds ``& < >`` or CR (a row flag next to values' HAS_*).
NEEDS_XML_ESCAPE = 64
#: Replaces a text column's cells before escaping: (cells, field index, first row).
Contract = Callable[[list[str], int, int], list[str]]


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


class RowEncoder:
    """Columns of Python values to packet rows in separator form plus per-column flags.

    The writer's encoding step on its own, so that a source which encodes elsewhere (a
    worker process, a database's bulk text) makes exactly the rows ``write_batch``
    would and hands them to ``PacketWriter.write_rows``.
    """

    def __init__(self, fields: Sequence[Field], table: str, *,
                 replace_invalid: bool = False) -> None:
        self.fields = list(fields)
        self.table = table
        self.encoders = [column_encoder(f, replace_invalid=replace_invalid) for f in fields]
        self.text_columns = frozenset(
            i for i, f in enumerate(fields) if f.is_text and not f.is_time)

    def encode_column(self, index: int, values: Sequence[Any],
                      first_row: int = 0) -> tuple[list[str], int]:
        """One column's cell texts and flags; a refused value names its table and row."""
        try:
            return self.encoders[index](values)
        except CellError as exc:
            raise exc.at(f"table {self.table!r} row {first_row + exc.index + 1}") from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise self._value_error(index, values, first_row, exc) from None

    def _value_error(
        self, index: int, column: Sequence[Any], base: int, exc: Exception
    ) -> SchemaError:
        """Name the row whose value the field's encoder refused."""
        f = self.fields[index]
        encode = self.encoders[index]
        for row, value in enumerate(column):
            try:
                encode([value])
            except (TypeError, ValueError, ArithmeticError) as cell_exc:
                return SchemaError(f"field {f.name!r} ({f.type}): {cell_exc}").at(
                    f"table {self.table!r} row {base + row + 1}")
        return SchemaError(f"field {f.name!r} ({f.type}): {exc}").at(f"table {self.table!r}")

    def _finish(self, index: int, cells: list[str], flags: int, first_row: int,
                contract: Contract | None) -> tuple[list[str], int]:
        if index in self.text_columns:
            if contract is not None:
                cells = contract(cells, index, first_row)
            cells, xml = escape_column(cells)
            if xml:
                flags |= NEEDS_XML_ESCAPE
        return cells, flags

    def join(self, cells: Sequence[list[str]],
             flags: Sequence[int]) -> tuple[list[str], list[int]]:
        """Encoded cell columns to rows: text columns escaped, then the cells joined."""
        done = [self._finish(i, c, f, 0, None)
                for i, (c, f) in enumerate(zip(cells, flags, strict=True))]
        return (list(map(CELL_SEP.join, zip(*(c for c, _ in done), strict=False))),
                [f for _, f in done])

    def encode(self, columns: Sequence[Sequence[Any]], first_row: int = 0,
               contract: Contract | None = None) -> tuple[list[str], list[int]]:
        """Rows and flags of one batch given column-wise; ``first_row`` numbers errors
        and ``contract`` writes dictionary tokens (spec §6.7)."""
        cells: list[list[str]] = []
        flags: list[int] = []
        for i, col in enumerate(columns):
            texts, fl = self.encode_column(i, col, first_row)
            texts, fl = self._finish(i, texts, fl, first_row, contract)
            cells.append(texts)
            flags.append(fl)
        return list(map(CELL_SEP.join, zip(*cells, strict=False))), flags


#: Rows in separator form, as text or as UTF-8 (a batch is one or the other).
Rows = list[str] | list[bytes]


def batch_size(rows: Rows) -> int:
    """UTF-8 byte length of a batch's rows together."""
    if rows and type(rows[0]) is bytes:
        return sum(map(len, rows))
    joined = "".join(rows)  # type: ignore[arg-type]
    return len(joined) if joined.isascii() else len(joined.encode())


def row_sizes(rows: Sequence[str | bytes]) -> list[int]:
    """UTF-8 byte length of each row, without encoding the ASCII ones."""
    if rows and type(rows[0]) is bytes and type(rows[-1]) is bytes:
        try:
            return list(map(bytes.__len__, rows))  # type: ignore[arg-type]
        except TypeError:  # text rows among them
            pass
    return [len(r) if type(r) is bytes or r.isascii() else len(r.encode())  # type: ignore[union-attr]
            for r in rows]


def as_text(rows: Sequence[str | bytes]) -> list[str]:
    """Rows as text (the compact form splits cells of text)."""
    return [r.decode() if type(r) is bytes else r for r in rows]  # type: ignore[misc]


def join_part(rows: Sequence[str | bytes], null_marker: str) -> bytes:
    """Rows in separator form (cells already escaped; text or UTF-8) → TDTP row
    strings, one per line, as UTF-8.

    LF can join the rows because an escaped row never contains a raw LF; this is
    exactly the text the data hash and the compressed payload cover (spec §4.1, §6.3).
    The whole-part replacements run on the UTF-8 bytes: every character they replace is
    ASCII, which UTF-8 never uses inside a longer character, and on bytes they run about
    twice as fast as on text holding non-Latin-1 characters.
    """
    try:
        data = b"\n".join(rows)  # type: ignore[arg-type]
    except TypeError:  # text rows, or batches of both kinds
        data = b"\n".join(r if type(r) is bytes else r.encode() for r in rows)  # type: ignore[union-attr]
    data = data.replace(b"\x00", b"|")
    null = NULL_SENTINEL.encode("ascii")
    if null in data:
        data = data.replace(null, escape_cell(null_marker).encode("utf-8"))
    return data


def xml_escape_rows(data: bytes) -> bytes:
    """The ``<R>`` text layer: only ``& < >`` and CR are escaped (DECISIONS 1)."""
    if b"&" in data:
        data = data.replace(b"&", b"&amp;")
    if b"<" in data:
        data = data.replace(b"<", b"&lt;")
    if b">" in data:
        data = data.replace(b">", b"&gt;")
    if b"\r" in data:
        data = data.replace(b"\r", b"&#xD;")
    return data


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
_BREAK_CELL = f"|{_ROW_BREAK}|"
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
    """Split row strings straight into columns with whole-text operations.

    Escapes are resolved on the joined text and the columns are strided slices of one
    flat split in which every row break is a cell of its own: when the breaks all land
    ``nfields`` cells apart, every row has exactly ``nfields`` cells, so no per-row
    string or list is built. Returns the columns and whether they may hold the
    placeholders :data:`ESC_BACKSLASH` / :data:`ESC_PIPE` (see :func:`restore_column`).
    ``pad`` fills short rows with empty cells (compact packets may omit trailing gaps).
    """
    if not rows:
        return [[] for _ in range(nfields)], False
    text = _ROW_BREAK.join(rows)
    resolved = "\\" in text
    if resolved:
        text = _resolve_escapes(text)
    placeholders = resolved and (ESC_BACKSLASH in text or ESC_PIPE in text)
    count = len(rows)
    width = nfields + 1
    flat = text.replace(_ROW_BREAK, _BREAK_CELL).split("|") if count > 1 else text.split("|")
    if len(flat) == width * count - 1 and (
            count == 1 or flat[nfields::width].count(_ROW_BREAK) == count - 1):
        return [flat[i::width] for i in range(nfields)], placeholders
    split = [r.split("|") for r in (text.split(_ROW_BREAK) if resolved else rows)]
    for i, cells in enumerate(split):
        if len(cells) > nfields or (len(cells) < nfields and not pad):
            raise CellCountError(i, len(cells))
        if len(cells) < nfields:
            cells.extend([""] * (nfields - len(cells)))
    return [list(col) for col in zip(*split, strict=False)], placeholders


def text_columns(rows: list[str], nfields: int) -> list[Sequence[str]]:
    """Row strings as columns of cell texts, escapes resolved (the rows were checked to
    have ``nfields`` cells each)."""
    columns, escaped = split_columns(rows, nfields)
    return [restore_column(c) for c in columns] if escaped else list(columns)


def check_cells(rows: list[str], nfields: int, *, pad: bool = False) -> None:
    """What :func:`split_columns` checks, without building the columns (a part too big
    to hold is checked first and split when it is read again): raise
    :class:`CellCountError` for the first row without ``nfields`` cells."""
    text = _ROW_BREAK.join(rows)
    if "\\" in text:
        rows = _resolve_escapes(text).split(_ROW_BREAK)
    want = nfields - 1
    counts = list(map(str.count, rows, repeat("|")))
    if not counts or (max(counts) <= want and (pad or min(counts) == want)):
        return
    for i, seps in enumerate(counts):
        if seps > want or (seps < want and not pad):
            raise CellCountError(i, seps + 1)


_ESCAPE_PAIR = re.compile("\\\\([^\x02])", re.DOTALL)
_RESOLVED = {"\\": ESC_BACKSLASH, "|": ESC_PIPE, "n": "\n"}
#: Below this share of backslashes, one regex pass with a call per escape beats three
#: whole-text replacements.
_SPARSE_ESCAPES = 1 / 32


def _resolved(m: re.Match[str]) -> str:
    char = m.group(1)
    return _RESOLVED.get(char, char)


def _resolve_escapes(text: str) -> str:
    """``\\\\`` and ``\\|`` to their placeholders, ``\\n`` to LF, any other ``\\x`` to
    ``x``; escapes pair up from the left (a backslash before a row break stays)."""
    if text.count("\\") < len(text) * _SPARSE_ESCAPES:
        return _ESCAPE_PAIR.sub(_resolved, text)
    # On the UTF-8 bytes: the same replacements (all ASCII), several times faster than
    # on text holding non-Latin-1 characters.
    data = text.encode("utf-8").replace(b"\\\\", ESC_BACKSLASH.encode())
    data = data.replace(b"\\|", ESC_PIPE.encode()).replace(b"\\n", b"\n")
    text = data.decode("utf-8")
    return _OTHER_ESCAPE.sub(r"\1", text) if "\\" in text else text


def restore_column(cells: Sequence[str]) -> Sequence[str]:
    """Undo the placeholders of :func:`split_columns` in one column."""
    joined = _ROW_BREAK.join(cells)
    if ESC_BACKSLASH not in joined and ESC_PIPE not in joined:
        return cells
    return joined.replace(ESC_BACKSLASH, "\\").replace(ESC_PIPE, "|").split(_ROW_BREAK)
