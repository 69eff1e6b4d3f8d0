"""Packet rows to COPY text in C: the import lane of a database that bulk-loads
PostgreSQL's COPY text format (see :mod:`~tdtp_core.sql.rowlanes`).

The typed path decodes each cell, checks and converts the columns and formats them as
COPY text in Python. This lane writes the row strings straight as COPY text in the
worker processes (``_bulktext.c``), for the forms the server reads as the typed path's
values; a row holding anything else, and the rest of its batch, are made the typed way
and appended, so the text is the same rows either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from tdtp_core.sql.checks import WritePlan
from tdtp_core.sql.rowlanes import PlanArgs, plan_codes
from tdtp_core.stream import CellColumns

compiled: ModuleType | None
try:
    from tdtp_core.sql import _bulktext as compiled
except ImportError:  # built without a C compiler
    compiled = None

#: The codes ``copy_rows`` knows (see ``_bulktext.c``).
CODES = "irdbDZs"


class CopyTextLane:
    """One import plan's rows as COPY text (a ``RowLane``); ``pack`` makes COPY text of
    bound columns, for the rows the typed path takes."""

    def __init__(self, plan: WritePlan, codes: str,
                 pack: Callable[[list[Sequence[Any]]], bytes]) -> None:
        assert compiled is not None
        self.copy_rows = compiled.copy_rows
        self.plan = plan
        self.pack = pack
        self.columns = PlanArgs(plan, codes)

    def prepare(self, cells: CellColumns, start: int) -> bytes:
        rows = cells.rows
        assert rows is not None
        text, done = self.copy_rows(rows, *self.columns.args(cells.schema))
        if done < len(rows):
            rest = CellColumns(None, cells.schema, cells.where, cells.first_row + done,
                               rows=rows[done:])
            self.plan.rows = start + done
            text += self.pack(self.plan.prepare_cells(rest))
        self.plan.rows = start + len(rows)
        return bytes(text)

    def finish(self, item: bytes, start: int) -> bytes:
        return item


def lane_for(plan: WritePlan, codes: Sequence[str | None],
             pack: Callable[[list[Sequence[Any]]], bytes]) -> CopyTextLane | None:
    """The COPY text lane for ``plan`` given each target column's code (how the server
    reads the cell as the typed path's value), or None when a column has none, its
    stream field would need converting, or the module was not built."""
    chosen = plan_codes(plan, codes, CODES)
    if chosen is None or compiled is None:
        return None
    return CopyTextLane(plan, chosen, pack)
