"""Packet rows bound to an INSERT in C: the SQLite import lane (see
:mod:`~tdtp_core.sql.rowlanes`).

The typed import path decodes each cell to a Python value, checks and converts the
columns (:class:`~tdtp_core.sql.checks.WritePlan`) and packs row tuples for the driver's
``executemany``. When every column of the plan is one the compiled module
(:mod:`tdtp_core.sql.native`) can bind the way the type map's binder would, the reader
hands over the row strings instead and ``insert_rows`` splits, checks, binds and steps
them on the connection's own handle. A row it cannot take exactly (a marker other than
NULL's, NULL in a NOT NULL column, text over its length, a value the typed path would
convert or refuse) ends the C run, and the typed path takes the rest of that batch: it
inserts them the same way, or names the bad cell. So the table ends up the same either
way (the property tests compare the two).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from tdtp_core.sql import native
from tdtp_core.sql.checks import WritePlan
from tdtp_core.sql.rowlanes import PlanArgs, plan_codes
from tdtp_core.stream import CellColumns
from tdtp_core.types import Schema

#: The codes ``insert_rows`` knows (see ``_sqliteinsert.c``).
CODES = "irdbDZs"


@dataclass
class RowTexts:
    """A batch's row strings as the packet carries them (UTF-8 bytes when they crossed
    from a worker process), with the part's schema (its markers) and the batch's place
    in its part, for the typed path's messages."""

    rows: list[str] | list[bytes]
    schema: Schema
    where: str
    first_row: int

    @classmethod
    def of(cls, cells: CellColumns, *, as_bytes: bool = False) -> RowTexts:
        rows = cells.rows
        assert rows is not None
        return cls([r.encode() for r in rows] if as_bytes else rows, cells.schema,
                   cells.where, cells.first_row)

    def cells(self, start: int) -> CellColumns:
        """The rows from ``start`` on, as the typed path takes them."""
        rows = [r.decode() if isinstance(r, bytes) else r for r in self.rows[start:]]
        return CellColumns(None, self.schema, self.where, self.first_row + start, rows=rows)


@dataclass
class LaneBatch:
    """An import batch for :meth:`RowLane.insert`; ``start`` is its first row's index in
    the stream (for the plan's row numbers)."""

    lane: SqliteRowLane
    texts: RowTexts
    start: int

    def __len__(self) -> int:
        return len(self.texts.rows)


class SqliteRowLane:
    """The compiled insert of one import plan on one SQLite connection (a ``RowLane``):
    workers send the row strings as UTF-8, this process binds and steps them."""

    def __init__(self, conn: sqlite3.Connection, plan: WritePlan, codes: str,
                 pack: Callable[[list[Sequence[Any]]], Any]) -> None:
        module = native.compiled
        assert module is not None
        self.insert_rows = module.insert_rows
        self.conn = conn
        self.plan = plan
        self.pack = pack
        self.columns = PlanArgs(plan, codes)

    def prepare(self, cells: CellColumns, start: int) -> RowTexts:
        return RowTexts.of(cells, as_bytes=True)

    def finish(self, item: RowTexts, start: int) -> LaneBatch:
        return LaneBatch(self, item, start)

    def insert(self, conn: Connection, sql: str, batch: LaneBatch) -> None:
        """Insert the batch with ``sql`` (one placeholder per plan column, in order): in
        C up to the first row it cannot take, the rest through the typed path."""
        texts = batch.texts
        done = self.insert_rows(self.conn, sql, texts.rows, *self.columns.args(texts.schema))
        if done < len(texts.rows):
            self.plan.rows = batch.start + done
            conn.exec_driver_sql(sql, self.pack(self.plan.prepare_cells(texts.cells(done))))
        self.plan.rows = batch.start + len(texts.rows)


def lane_for(conn: Any, plan: WritePlan, codes: Sequence[str | None],
             pack: Callable[[list[Sequence[Any]]], Any]) -> SqliteRowLane | None:
    """The compiled lane for ``plan`` on ``conn``, given each target column's code (how
    the type map binds it, see ``_sqliteinsert.c``), or None when a column has none,
    its stream field would need converting, or the module may not run on ``conn``."""
    chosen = plan_codes(plan, codes, CODES)
    if chosen is None or native.for_connection(conn) is None:
        return None
    for column, code in zip(plan.columns, chosen, strict=True):
        if code == "Z" and not (column.src.timezone and column.dst.timezone):
            return None  # bound as UTC text: both sides must be UTC instants
    return SqliteRowLane(conn, plan, chosen, pack)
