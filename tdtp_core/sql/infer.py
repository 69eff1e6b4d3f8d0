"""Schemas for the results of raw SELECTs (``tdtp export --query``).

The driver's cursor description says the types where it can (PostgreSQL OIDs, MySQL
field types); otherwise the first batch's Python values do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tdtp_core.sql import convert
from tdtp_core.stream import Batch
from tdtp_core.types import BLOB, BOOLEAN, DATE, DECIMAL, INTEGER, REAL, TEXT, TIMESTAMP, Field


def field_from_values(name: str, values: Sequence[Any]) -> Field:
    """The TDTP field a column of Python values fits; all NULL → TEXT."""
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return Field(name, BOOLEAN)
    if isinstance(sample, int):
        return Field(name, INTEGER)
    if isinstance(sample, float):
        return Field(name, REAL)
    if isinstance(sample, Decimal):
        scales = [-int(v.as_tuple().exponent) for v in values
                  if isinstance(v, Decimal) and v.is_finite()]
        return Field(name, DECIMAL, precision=38, scale=max([0, *scales]))
    if isinstance(sample, datetime):
        return Field(name, TIMESTAMP, timezone="UTC" if sample.tzinfo else None)
    if isinstance(sample, date):
        return Field(name, DATE)
    if isinstance(sample, time | timedelta):
        return Field(name, TIMESTAMP, subtype="time")
    if isinstance(sample, bytes | bytearray | memoryview):
        return Field(name, BLOB)
    return Field(name, TEXT)


def infer_fields(
    names: Sequence[str], rows: Sequence[Sequence[Any]], described: Sequence[Field | None]
) -> list[Field]:
    """One field per result column: the described one if known, else from the values."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    out = []
    for i, name in enumerate(names):
        known = described[i] if i < len(described) else None
        out.append(known if known is not None else field_from_values(name, columns[i]))
    return out


def result_fixer(fields: Sequence[Field], sample: Sequence[Sequence[Any]]) -> Callable[
        [Batch], Batch]:
    """Convert the driver values the stream does not take as they are (MySQL times come
    as ``timedelta``, BOOLEAN described columns as 0/1, buffers as ``memoryview``)."""
    columns = list(zip(*sample, strict=True)) if sample else [() for _ in fields]
    fixes: dict[int, Callable[[Any], Any]] = {}
    for i, f in enumerate(fields):
        kinds = {type(v) for v in columns[i] if v is not None}
        if f.is_time and kinds - {time}:
            fixes[i] = convert.time_from_db
        elif f.kind == BOOLEAN and kinds - {bool}:
            fixes[i] = convert.to_bool
        elif f.kind == BLOB and kinds - {bytes}:
            fixes[i] = convert.to_bytes
    if not fixes:
        return lambda batch: batch

    def fix(batch: Batch) -> Batch:
        return [
            tuple(fixes[i](v) if i in fixes and v is not None else v for i, v in enumerate(r))
            for r in batch
        ]

    return fix
