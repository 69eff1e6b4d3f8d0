"""Import lanes: a packet's row strings taken in C instead of as Python values.

An adapter offers one through ``SqlAdapter._row_lane`` when every column of the import
plan binds in a form the compiled code makes exactly as the typed path would. The
reader then keeps each batch's row strings (``CellColumns.rows``); the lane's
``prepare`` runs where the batch is read (a worker process, or this one) and its
``finish`` here turns what ``prepare`` made into what ``_insert`` / ``_merge`` take. A
row the C code cannot take exactly goes, with the rest of its batch, through the typed
path, which stores the same values or names the bad cell.

Two lanes: rows bound to a SQLite INSERT on the connection's handle
(:mod:`~tdtp_core.sql.rowinsert`) and rows written as COPY text
(:mod:`~tdtp_core.sql.bulktext`). The kind codes are documented in ``_rowlane.h``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from tdtp_core.sql.checks import WritePlan, value_kind
from tdtp_core.stream import CellColumns
from tdtp_core.types import TEXT, Schema
from tdtp_core.values import special_values_map, text_parser

#: Marker texts as UTF-8 and whether each means NULL, per field of a part's schema.
Markers = tuple[tuple[tuple[bytes, bool], ...], ...]


class RowLane(Protocol):
    def prepare(self, cells: CellColumns, start: int) -> Any:
        """Where the batch is read: what crosses to this process (``start`` is the
        batch's first row in the stream, for the typed path's messages)."""

    def finish(self, item: Any, start: int) -> Any:
        """Here: ``prepare``'s result as ``_insert`` / ``_merge`` take it."""


class PlanArgs:
    """The plan's columns as the C lanes take them: each placeholder's source cell, kind
    code, nullability and text limit in characters (0: none)."""

    def __init__(self, plan: WritePlan, codes: str) -> None:
        self.codes = codes
        self.sources = tuple(c.source for c in plan.columns)
        self.nullable = tuple(c.nullable for c in plan.columns)
        self.limits = tuple(
            (c.dst.length or 0) if value_kind(c.dst) == TEXT else 0 for c in plan.columns)

    def args(self, schema: Schema) -> tuple[Any, ...]:
        """The arguments after the rows, under a part's ``schema`` (its markers)."""
        return self.sources, self.codes, self.nullable, self.limits, markers(schema)


def markers(schema: Schema) -> Markers:
    """Each field's markers as UTF-8, and whether each means NULL."""
    return tuple(
        tuple((marker.encode(), value is None) for marker, value in
              special_values_map(f).items())
        for f in schema.fields)


def plan_codes(plan: WritePlan, codes: Sequence[str | None], known: str) -> str | None:
    """The codes of every plan column (``known`` lists the lane's), or None when one has
    none or its stream field would need converting to the target's kind."""
    chosen = []
    for column, code in zip(plan.columns, codes, strict=True):
        if code is None or code not in known:
            return None
        kind = value_kind(column.dst)
        if value_kind(column.src) != kind:
            return None
        if code == "s" and (kind != TEXT or text_parser(column.src) is not None):
            return None
        chosen.append(code)
    return "".join(chosen) if chosen else None
