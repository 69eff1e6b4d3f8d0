"""Column-wise conversion of driver rows: to stream values, or straight to packet rows.

Both directions of an export share the readers (driver value → Python value, per
column). The export lane adds the type map's :mod:`~tdtp_core.sql.celltext` shortcuts
and the packet's :class:`~tdtp_core.packet.encode.RowEncoder`, so a batch of driver
rows becomes the rows ``PacketWriter.write_batch`` would have made from its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from tdtp_core.errors import AdapterError
from tdtp_core.packet.encode import RowEncoder
from tdtp_core.sql.celltext import CellEncoder
from tdtp_core.sql.typemap import Reader
from tdtp_core.stream import Batch, EncodedRows
from tdtp_core.types import Field


class ColumnReaders:
    """The type map's readers of one table, applied a column at a time."""

    def __init__(self, table: str, names: Sequence[str], fields: Sequence[Field],
                 readers: Sequence[Reader | None]) -> None:
        self.table = table
        self.names = list(names)
        self.fields = list(fields)
        self.readers = list(readers)

    def read(self, index: int, values: Sequence[Any]) -> Sequence[Any]:
        """One column's driver values as stream values; a bad one names the column."""
        read = self.readers[index]
        if read is None:
            return values
        try:
            return [None if v is None else read(v) for v in values]
        except (ValueError, TypeError, ArithmeticError) as exc:
            bad = _first_unreadable(values, read)
            raise AdapterError(
                f"table {self.table!r}, column {self.names[index]!r}: cannot read {bad!r} "
                f"as {self.fields[index].type} ({exc})"
            ) from None

    def rows(self, rows: Sequence[Sequence[Any]]) -> Batch:
        """A batch of driver rows as stream rows."""
        if not any(self.readers):
            return [tuple(r) for r in rows]
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
        if not columns:
            return []
        return list(zip(*(self.read(i, c) for i, c in enumerate(columns)), strict=True))


class PacketRows:
    """Driver rows to packet rows: each column through its shortcut when it applies,
    else through its reader and the packet encoder."""

    def __init__(self, readers: ColumnReaders, shortcuts: Sequence[CellEncoder | None],
                 encoder: RowEncoder) -> None:
        self.readers = readers
        self.shortcuts = list(shortcuts)
        self.encoder = encoder
        self.getters = [itemgetter(i) for i in range(len(self.shortcuts))]

    def __call__(self, rows: Sequence[Sequence[Any]], first_row: int = 0) -> EncodedRows:
        """One batch of a SELECT's rows (all of the same width: no ragged-row check)."""
        cells: list[list[str]] = []
        flags: list[int] = []
        for i, get in enumerate(self.getters):
            column = list(map(get, rows))  # 2-3x faster than zip(*rows) for wide batches
            shortcut = self.shortcuts[i]
            done = shortcut(column) if shortcut is not None else None
            if done is None:
                done = self.encoder.encode_column(i, self.readers.read(i, column), first_row)
            cells.append(done[0])
            flags.append(done[1])
        out, out_flags = self.encoder.join(cells, flags)
        return EncodedRows(out, out_flags)


def _first_unreadable(column: Sequence[Any], read: Reader) -> Any:
    for value in column:
        if value is None:
            continue
        try:
            read(value)
        except (ValueError, TypeError, ArithmeticError):
            return value
    return None
