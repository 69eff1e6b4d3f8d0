"""SQLite rows straight to packet row text in C: the SQLite export lane's fast path.

The typed lane (:class:`~tdtp_core.sql.lanes.PacketRows`) makes a Python object per
value, converts whole columns and joins the cells again. The compiled module
(:mod:`tdtp_core.sql.native`) steps the statement itself on the connection's own SQLite
handle and writes each row as the separator-form UTF-8 the packet writer takes, for the
ways SQLite keeps values (see :func:`kinds_for`). A value it cannot render exactly as
the typed path would makes its row fall back: that row's values come back as the
sqlite3 module returns them and go through the caller's ``PacketRows``, so the rows are
the same either way (the property tests compare the two).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from tdtp_core.sql import native
from tdtp_core.sql.lanes import PacketRows
from tdtp_core.stream import EncodedRows
from tdtp_core.types import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    NULL_MARKER,
    REAL,
    TEXT,
    TIMESTAMP,
    Field,
)

#: Parameter values the module binds itself (what the sqlite3 module binds as they are).
_BINDABLE = (int, float, str, bytes, type(None))


def kinds_for(fields: Sequence[Field]) -> tuple[str, tuple[int, ...]] | None:
    """Each column's kind code and scale for the compiled lane, or None when a field has no
    code (binary, times of day, timestamps not kept in UTC). The codes assume SQLite's
    storage: integers, floats, NUMERIC as integer or float, booleans as 0/1, dates and
    UTC timestamps as ISO text."""
    codes = []
    scales = []
    for f in fields:
        if f.is_time:
            return None
        scale = 0
        if f.kind == INTEGER:
            code = "i"
        elif f.kind == REAL:
            code = "r"
        elif f.kind == DECIMAL:
            code, scale = "d", f.scale or 0
            if scale > 15:
                return None
        elif f.kind == BOOLEAN:
            code = "b"
        elif f.kind == DATE:
            code = "D"
        elif f.kind == TIMESTAMP and f.timezone == "UTC":
            code = "T"
        elif f.kind == TEXT:
            code = "s"
        else:
            return None
        codes.append(code)
        scales.append(scale)
    return "".join(codes), tuple(scales)


def encoded_batches(conn: sqlite3.Connection, sql: str, params: Sequence[Any],
                    fields: Sequence[Field], make: PacketRows, batch_size: int,
                    first_row: int = 0) -> Iterator[EncodedRows] | None:
    """The rows of ``sql`` as packet rows in batches, rendered in C with ``make`` for the
    rows that fall back; None when the compiled lane cannot take this statement (then
    the caller runs its typed lane)."""
    codes = kinds_for(fields)
    if codes is None or not all(type(p) in _BINDABLE for p in params):
        return None
    module = native.for_connection(conn)
    if module is None:
        return None
    cursor = module.RowText(conn, sql, tuple(params), codes[0], codes[1], NULL_MARKER)
    return _batches(cursor, make, batch_size, first_row)


def _batches(cursor: Any, make: PacketRows, batch_size: int,
             first_row: int) -> Iterator[EncodedRows]:
    try:
        while True:
            rows, flags, fallbacks = cursor.fetch(batch_size)
            if not rows:
                return
            if fallbacks:
                typed = _typed(make, fallbacks, first_row)
                for (index, _), text in zip(fallbacks, typed.rows, strict=True):
                    rows[index] = text.encode() if type(text) is str else text
                flags = [a | b for a, b in zip(flags, typed.flags, strict=True)]
            yield EncodedRows(rows, flags)
            first_row += len(rows)
    finally:
        cursor.close()


def _typed(make: PacketRows, fallbacks: list[tuple[int, tuple[Any, ...]]],
           first_row: int) -> EncodedRows:
    """The fallback rows of a batch through the typed lane in one call (a column of
    values the C code never renders, such as exact decimals kept as text, costs what
    the typed lane costs); a refusal is raised again for the row it belongs to."""
    try:
        return make([values for _, values in fallbacks], first_row)
    except Exception:
        for index, values in fallbacks:
            make([values], first_row + index)  # raises, naming the right row
        raise
