"""Checks and conversions every batch passes before it reaches a database.

A batch is transposed once; each column is checked with set-level operations (``set(map(
type, column))``, ``None in column``) and only a column that fails the cheap test is
walked value by value, to convert it or to name the bad row. A failure names the table,
the part (when the stream knows its part sizes), the row and the field.

From a packet's cell texts (the stream's cells lane) a column may skip Python values
altogether: when the type map has a shortcut from cell text to what the driver binds
(:meth:`~tdtp_core.sql.typemap.TypeMap.cell_binder`) and the column holds nothing the
shortcut cannot prove equal to the typed path (markers, NULLs in a NOT NULL column).
Every other column is decoded as the typed path decodes it, then checked as above.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from tdtp_core.errors import SchemaError
from tdtp_core.sql import convert
from tdtp_core.sql.celltext import CellBinder
from tdtp_core.sql.typemap import Binder, NativeType
from tdtp_core.stream import Batch, CellColumns, TableStream
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DATE_KINDS,
    DECIMAL,
    INTEGER,
    NODATE,
    REAL,
    TEXT,
    Field,
)
from tdtp_core.values import format_value, text_parser

TIME = "TIME"
TIMESTAMP = "TIMESTAMP"
_NONE = type(None)

#: The Python types a column of each target kind may hold without conversion.
PY_TYPES: dict[str, frozenset[type]] = {
    INTEGER: frozenset({int, _NONE}),
    REAL: frozenset({float, _NONE}),
    DECIMAL: frozenset({Decimal, _NONE}),
    TEXT: frozenset({str, _NONE}),
    BOOLEAN: frozenset({bool, _NONE}),
    DATE: frozenset({date, _NONE}),
    TIMESTAMP: frozenset({datetime, _NONE}),
    TIME: frozenset({time, _NONE}),
    BLOB: frozenset({bytes, _NONE}),
}


def value_kind(field: Field) -> str:
    """The kind that decides a field's Python type: TIME for times of day."""
    if field.is_time:
        return TIME
    if field.kind in DATE_KINDS and field.kind != DATE:
        return TIMESTAMP
    return field.kind


class BadValue(ValueError):
    """A value that cannot become the target column's type."""


def _coercer(src: Field, dst: Field) -> Callable[[Any], Any]:
    """Convert one non-None value of ``src`` to the Python type of ``dst``."""
    kind = value_kind(dst)
    parse = text_parser(dst)
    aware = bool(dst.timezone)

    def fix_zone(value: datetime) -> datetime:
        if aware:
            return convert.aware_from_db(value)  # type: ignore[no-any-return]
        return convert.datetime_to_naive_utc(value)

    def one(value: Any) -> Any:
        if value is NODATE:
            return None
        if kind == TEXT:
            return value if isinstance(value, str) else format_value(src, value)
        if isinstance(value, str):
            if parse is None:
                raise BadValue("not text")
            if value == "":  # an empty cell is NULL for every type but text (spec §3.5.2)
                return None
            value = parse(value)
            if value is NODATE:
                return None
        if kind == INTEGER:
            if isinstance(value, float | Decimal) and value != int(value):
                raise BadValue("not an integer")
            return int(value)
        if kind == REAL:
            return float(value)
        if kind == DECIMAL:
            return convert.to_decimal(value)
        if kind == BOOLEAN:
            if value not in (0, 1):
                raise BadValue("boolean must be 0 or 1")
            return bool(value)
        if kind == DATE:
            return value.date() if isinstance(value, datetime) else value
        if kind == TIMESTAMP:
            if not isinstance(value, datetime):
                value = datetime(value.year, value.month, value.day)
            return fix_zone(value)
        if kind == TIME:
            if isinstance(value, timedelta | time):
                return convert.time_from_db(value)
            return value.time()
        if kind == BLOB:
            return convert.to_bytes(value)
        return value

    return one


@dataclass
class WriteColumn:
    """One target column fed from one stream field."""

    source: int
    name: str
    src: Field
    dst: Field
    nullable: bool
    binder: Binder | None = None
    shortcut: CellBinder | None = None
    #: The target column's declared type, for a type map's finer choices.
    native: NativeType | None = None

    def __post_init__(self) -> None:
        kind = value_kind(self.dst)
        allowed = PY_TYPES.get(kind, frozenset())
        if kind == TIMESTAMP and bool(self.src.timezone) != bool(self.dst.timezone):
            allowed = frozenset()  # every value needs its zone fixed
        self._allowed = allowed
        self._one = _coercer(self.src, self.dst)
        length = self.dst.length or 0
        self._max_len = length if kind == TEXT and length > 0 else None
        if self.shortcut is not None and (value_kind(self.src) != kind or kind == TEXT):
            self.shortcut = None  # needs a conversion, or a length check: typed path

    def prepare_cells(self, cells: CellColumns) -> Sequence[Any] | None:
        """The bound column straight from the batch's cell texts, or None when the
        shortcut cannot vouch for every cell (then decode and :meth:`prepare`)."""
        if self.shortcut is None:
            return None
        column = cells.columns[self.source]
        specials = cells.schema.fields[self.source].special_values
        null = specials.null if specials else None
        others = [m for kind, m in specials.markers() if kind != "null"] if specials else []
        if "\x00" in column or any(m in column for m in others):
            return None
        nulls = {"", null} if null is not None else {""}
        if not any(n in column for n in nulls):
            return self.shortcut(column)
        if not self.nullable:
            return None
        bound = self.shortcut([c for c in column if c not in nulls])
        if bound is None:
            return None
        it = iter(bound)
        return [None if c in nulls else next(it) for c in column]

    def prepare(self, column: Sequence[Any], fail: Callable[[int, str], SchemaError]) -> (
            Sequence[Any]):
        """The column converted, checked and bound; ``fail(i, reason)`` names row ``i``."""
        if not set(map(type, column)) <= self._allowed:
            one = self._one
            out: list[Any] = []
            for i, value in enumerate(column):
                try:
                    out.append(None if value is None else one(value))
                except (BadValue, ValueError, TypeError, OverflowError, AttributeError) as exc:
                    reason = str(exc) if isinstance(exc, BadValue) else "wrong type"
                    raise fail(i, f"{reason} for {self.dst.type} column: {value!r}") from None
            column = out
        if not self.nullable and None in column:
            raise fail(column.index(None), "NULL in a NOT NULL column")
        if self._max_len is not None:
            limit = self._max_len
            for i, value in enumerate(column):
                if value is not None and len(value) > limit:
                    raise fail(i, f"text length {len(value)} exceeds {limit}")
        if self.binder is not None:
            bind = self.binder
            column = [None if v is None else bind(v) for v in column]
        return column


class WritePlan:
    """Turns stream batches into rows in the target's column order, ready to bind."""

    def __init__(self, table: str, columns: list[WriteColumn], stream: TableStream) -> None:
        self.table = table
        self.columns = columns
        self.rows = 0
        parts = stream.metadata.get("parts") or []
        sizes = [getattr(getattr(p, "header", None), "records_in_part", None) for p in parts]
        ints = [n for n in sizes if isinstance(n, int)]
        self._part_ends: list[int] = (
            list(accumulate(ints)) if len(ints) > 1 and len(ints) == len(sizes) else [])

    def where(self, index: int) -> str:
        """``table t, part 2, row 5`` for the stream's row ``index`` (0-based); the part
        is named when the stream came from a multi-part packet set."""
        for part, end in enumerate(self._part_ends, start=1):
            if index < end:
                start = self._part_ends[part - 2] if part > 1 else 0
                return f"table {self.table!r}, part {part}, row {index - start + 1}"
        return f"table {self.table!r}, row {index + 1}"

    def prepare_columns(self, batch: Batch) -> list[Sequence[Any]]:
        """The bound columns, in the target's order, of a batch of stream rows."""
        columns = list(zip(*batch, strict=True)) if batch else []
        values: dict[int, Sequence[Any]] = {
            i: columns[c.source] for i, c in enumerate(self.columns)}
        return self._check(len(batch), values, {})

    def prepare_cells(self, cells: CellColumns) -> list[Sequence[Any]]:
        """The bound columns, in the target's order, of a batch of cell texts."""
        bound: dict[int, Sequence[Any]] = {}
        values: dict[int, Sequence[Any]] = {}
        # Decode in the stream's field order, as the typed path does before any check.
        for i, col in sorted(enumerate(self.columns), key=lambda item: item[1].source):
            shortcut = col.prepare_cells(cells)
            if shortcut is None:
                values[i] = cells.decode(col.source)
            else:
                bound[i] = shortcut
        return self._check(len(cells), values, bound)

    def _check(self, rows: int, values: dict[int, Sequence[Any]],
               bound: dict[int, Sequence[Any]]) -> list[Sequence[Any]]:
        offset = self.rows
        self.rows += rows
        out = []
        for i, col in enumerate(self.columns):
            if i in bound:
                out.append(bound[i])
                continue

            def fail(i: int, reason: str, _name: str = col.name) -> SchemaError:
                return SchemaError(f"field {_name!r}: {reason}", where=self.where(offset + i))

            out.append(col.prepare(values[i], fail))
        return out
