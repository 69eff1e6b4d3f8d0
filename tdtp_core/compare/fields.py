"""What diff and merge share: lining up two schemas, and values in comparable form.

Two tables line up when they have the same field names (in any order). A field's types
must be *compatible*: the same TDTP type (DATETIME and TIMESTAMP count as one; a time
zone or a TEXT length may differ), or both numeric (INTEGER, REAL, DECIMAL), which
compare by value, so ``5``, ``5.0`` and ``5.00`` are equal. Anything else is an error
naming the fields.

Rows are compared through their *comparison texts*: canonical cell texts (numbers
normalised), optionally lower-cased for TEXT, from which keys and row digests are made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.types import DATE, DATE_KINDS, DECIMAL, INTEGER, REAL, TEXT, Field
from tdtp_core.values import column_texts

if TYPE_CHECKING:
    from tdtp_core.stream import TableStream
    from tdtp_core.types import Schema

NUMERIC = frozenset({INTEGER, REAL, DECIMAL})
#: Turns a column of Python values into texts (None for NULL).
Texts = Callable[[Sequence[Any]], list[str | None]]
#: A table that can be read again (diff reads its first input twice).
Opener = Callable[[], "TableStream"]


def reopenable(source: TableStream | Opener) -> Opener:
    """An opener for ``source``; a stream is kept in memory so it can be read again."""
    if callable(source):
        return source
    from tdtp_core.stream import TableStream

    rows = source.rows()
    schema, table = source.schema, source.table
    return lambda: TableStream.from_rows(schema, rows, table=table)


def describe(field: Field) -> str:
    extra = ""
    if field.kind == DECIMAL and (field.precision or field.scale):
        extra = f"({field.precision or 18},{field.scale or 0})"
    return f"{field.type}{extra}" + (" (time)" if field.is_time else "")


def _group(field: Field) -> str:
    if field.is_time:
        return "time"
    if field.kind in NUMERIC:
        return "number"
    if field.kind in DATE_KINDS and field.kind != DATE:
        return "timestamp"
    return field.kind


def compatible(a: Field, b: Field) -> bool:
    return _group(a) == _group(b)


def align(first: Schema, other: Schema, *, names: tuple[str, str] = ("A", "B")) -> list[int]:
    """For each field of ``first``, the position of the field of that name in ``other``.

    Raises ``SchemaError`` naming missing, extra and incompatible fields.
    """
    positions: list[int] = []
    missing: list[str] = []
    for f in first:
        try:
            positions.append(other.index(f.name))
        except SchemaError:
            missing.append(f.name)
    extra = [f.name for i, f in enumerate(other) if i not in positions]
    problems: list[str] = []
    if missing:
        problems.append(f"{', '.join(missing)} only in {names[0]}")
    if extra:
        problems.append(f"{', '.join(extra)} only in {names[1]}")
    if not missing:
        for f, i in zip(first, positions, strict=True):
            g = other[i]
            if not compatible(f, g):
                problems.append(f"{f.name} is {describe(f)} in {names[0]} but {describe(g)} "
                                f"in {names[1]}")
    if problems:
        raise SchemaError("the tables' fields differ: " + "; ".join(problems))
    return positions


def resolve_names(schema: Schema, names: Sequence[str], what: str) -> list[int]:
    """Positions of the named fields; an unknown name is an error (the reference drops it)."""
    out: list[int] = []
    for name in names:
        try:
            out.append(schema.index(name))
        except SchemaError:
            raise ConfigError(f"{what} field {name!r} is not in the table "
                              f"(fields: {', '.join(schema.names)})") from None
    return out


def cell_texts(field: Field) -> Texts:
    """Canonical cell texts of a column as the field encodes it; NULL as None."""
    return column_texts(field, replace_invalid=True)


def _number_text(value: Any) -> str | None:
    """One text per numeric value, whatever its type: ``5`` for 5, 5.0 and 5.00."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        value = Decimal(repr(value))
    elif isinstance(value, int):
        return str(value)
    if not value.is_finite():
        return "NaN" if value.is_nan() else ("INF" if value > 0 else "-INF")
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def comparison_texts(field: Field, other: Field | None = None, *, ignore_case: bool = False
                     ) -> Texts:
    """Texts that are equal exactly when two values of ``field`` (or of ``field`` and the
    compatible ``other``) are equal."""
    numeric_mix = field.kind in NUMERIC and (
        field.kind == DECIMAL or (other is not None and other.kind != field.kind))
    if numeric_mix:
        def numbers(values: Sequence[Any]) -> list[str | None]:
            return [_number_text(v) for v in values]

        return numbers
    texts = cell_texts(field)
    if ignore_case and field.kind == TEXT and not field.is_time:
        def folded(values: Sequence[Any]) -> list[str | None]:
            return [None if t is None else t.casefold() for t in texts(values)]

        return folded
    return texts


def sort_value(value: Any) -> tuple[Any, ...]:
    """A key for ordering mixed values: NULL first, NaN last, instants in UTC."""
    if value is None:
        return (0,)
    if isinstance(value, float | Decimal) and value != value:
        return (3,)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return (1, value)
    return (2, type(value).__name__, value)

