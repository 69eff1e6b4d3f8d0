"""Packet rows bound to an INSERT in C: the SQLite import lane.

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
from tdtp_core.sql.checks import WritePlan, value_kind
from tdtp_core.stream import CellColumns
from tdtp_core.types import TEXT, TIMESTAMP, Schema
from tdtp_core.values import special_values_map, text_parser

#: The codes ``insert_rows`` knows (see ``_sqliteinsert.c``).
CODES = frozenset("irdbDZs")


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

    lane: RowLane
    texts: RowTexts
    start: int

    def __len__(self) -> int:
        return len(self.texts.rows)


class RowLane:
    """The compiled insert of one import plan on one SQLite connection."""

    def __init__(self, conn: sqlite3.Connection, plan: WritePlan, codes: str,
                 pack: Callable[[list[Sequence[Any]]], Any]) -> None:
        module = native.compiled
        assert module is not None
        self.insert_rows = module.insert_rows
        self.conn = conn
        self.plan = plan
        self.pack = pack
        self.codes = codes
        self.sources = tuple(c.source for c in plan.columns)
        self.nullable = tuple(c.nullable for c in plan.columns)
        self.limits = tuple(
            (c.dst.length or 0) if value_kind(c.dst) == TEXT else 0 for c in plan.columns)

    def batch(self, cells: CellColumns, start: int, *, as_bytes: bool = False) -> LaneBatch:
        return LaneBatch(self, RowTexts.of(cells, as_bytes=as_bytes), start)

    def insert(self, conn: Connection, sql: str, batch: LaneBatch) -> None:
        """Insert the batch with ``sql`` (one placeholder per plan column, in order): in
        C up to the first row it cannot take, the rest through the typed path."""
        texts = batch.texts
        done = self.insert_rows(self.conn, sql, texts.rows, self.sources, self.codes,
                                self.nullable, self.limits, _markers(texts.schema))
        if done < len(texts.rows):
            self.plan.rows = batch.start + done
            conn.exec_driver_sql(sql, self.pack(self.plan.prepare_cells(texts.cells(done))))
        self.plan.rows = batch.start + len(texts.rows)


def _markers(schema: Schema) -> tuple[tuple[tuple[bytes, bool], ...], ...]:
    """Each field's markers as UTF-8, and whether each means NULL."""
    return tuple(
        tuple((marker.encode(), value is None) for marker, value in
              special_values_map(f).items())
        for f in schema.fields)


def lane_for(conn: Any, plan: WritePlan, codes: Sequence[str | None],
             pack: Callable[[list[Sequence[Any]]], Any]) -> RowLane | None:
    """The compiled lane for ``plan`` on ``conn``, given each target column's code (how
    the type map binds it, see ``_sqliteinsert.c``), or None when a column has none,
    its stream field would need converting, or the module may not run on ``conn``."""
    if not plan.columns or native.for_connection(conn) is None:
        return None
    chosen = []
    for column, code in zip(plan.columns, codes, strict=True):
        if code is None or code not in CODES:
            return None
        kind = value_kind(column.dst)
        if value_kind(column.src) != kind:
            return None
        if code == "s" and (kind != TEXT or text_parser(column.src) is not None):
            return None
        if code == "Z" and not (kind == TIMESTAMP and column.src.timezone
                                and column.dst.timezone):
            return None
        chosen.append(code)
    return RowLane(conn, plan, "".join(chosen), pack)
