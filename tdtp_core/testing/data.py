"""Test data for plugin authors: the type matrix and stream and packet factories.

The type matrix holds every TDTP type at its extremes (64-bit integers, the largest and
smallest doubles, 13-digit decimals, the years 1000 and 9999, microseconds, every byte
value, text with the characters a packet must escape) plus a row of NULLs, so one
round trip through a component shows whether it keeps every value exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from tdtp_core.stream import DEFAULT_BATCH_SIZE, TableStream
from tdtp_core.types import Field, Schema

TYPE_MATRIX_SCHEMA = Schema([
    Field("id", "INTEGER", key=True),
    Field("big", "INTEGER"),
    Field("real", "REAL"),
    Field("amount", "DECIMAL", precision=15, scale=2),
    Field("txt", "TEXT"),
    Field("flag", "BOOLEAN"),
    Field("day", "DATE"),
    Field("at", "TIMESTAMP", timezone="UTC"),
    Field("clock", "TIMESTAMP", subtype="time"),
    Field("data", "BLOB"),
])

TYPE_MATRIX_ROWS: list[tuple[Any, ...]] = [
    (1, 2**63 - 1, 1.5, Decimal("9999999999999.99"), "Zoë Ωmega 😀 中文", True,
     date(9999, 12, 31), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
     time(23, 59, 59, 999999), bytes(range(256))),
    (2, -(2**63), -1.7976931348623157e308, Decimal("-0.01"), "", False,
     date(1000, 1, 1), datetime(1000, 1, 1, 0, 0, 0, tzinfo=UTC), time(0, 0), b"\x00"),
    (3, 0, 2.2250738585072014e-308, Decimal("0.00"), "a|b\\c\nd\r\ne\t<&>\"'",
     True, date(2026, 6, 16), datetime(2026, 6, 16, 11, 38, 11, 528770, tzinfo=UTC),
     time(11, 38, 11, 5), b"|\\\n"),
    (4, None, None, None, None, None, None, None, None, None),
    (5, 42, 0.1, Decimal("1500.50"), "x" * 20000, False, date(2000, 2, 29),
     datetime(2000, 2, 29, 12, 0, tzinfo=UTC), time(12, 0), b"x" * 100000),
]


class TypeMatrix(NamedTuple):
    """The type matrix as the ``tdtp_type_matrix`` fixture hands it out."""

    schema: Schema
    rows: list[tuple[Any, ...]]


def infer_schema(rows: Sequence[Sequence[Any] | Mapping[str, Any]]) -> Schema:
    """A schema guessed from Python values: names from dict keys (else ``c1``, ``c2``…),
    each type from the column's first non-NULL value (TEXT when all are NULL)."""
    if not rows:
        raise ValueError("cannot infer a schema from no rows: pass schema=")
    first = rows[0]
    names = list(first) if isinstance(first, Mapping) else [
        f"c{i}" for i in range(1, len(first) + 1)]
    columns = list(zip(*(_values(r, names) for r in rows), strict=True))
    return Schema(_field(name, column) for name, column in zip(names, columns, strict=True))


def _values(row: Sequence[Any] | Mapping[str, Any], names: list[str]) -> tuple[Any, ...]:
    return tuple(row[n] for n in names) if isinstance(row, Mapping) else tuple(row)


def _field(name: str, column: Sequence[Any]) -> Field:
    present = [v for v in column if v is not None]
    value = present[0] if present else None
    # bool before int (bool is an int) and datetime before date (likewise).
    if isinstance(value, bool):
        return Field(name, "BOOLEAN")
    if isinstance(value, int):
        return Field(name, "INTEGER")
    if isinstance(value, float):
        return Field(name, "REAL")
    if isinstance(value, Decimal):
        scale = max(-min(int(v.as_tuple().exponent), 0) for v in present)
        return Field(name, "DECIMAL", precision=38, scale=scale)
    if isinstance(value, bytes):
        return Field(name, "BLOB")
    if isinstance(value, datetime):
        return Field(name, "TIMESTAMP", timezone="UTC" if value.tzinfo else None)
    if isinstance(value, date):
        return Field(name, "DATE")
    if isinstance(value, time):
        return Field(name, "TIMESTAMP", subtype="time")
    return Field(name, "TEXT")


def make_stream(
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    schema: Schema | None = None,
    *,
    table: str = "t",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> TableStream:
    """Rows (tuples, or dicts keyed by field name) as a table stream.

    Without ``schema`` the fields are inferred (:func:`infer_schema`), so a test needs
    no schema boilerplate: ``make_stream([(1, "Ada")])``.
    """
    items = list(rows)
    schema = infer_schema(items) if schema is None else schema
    names = schema.names
    tuples = [_values(r, names) for r in items]
    return TableStream.from_rows(schema, tuples, table=table, batch_size=batch_size)


def make_packet(
    tmp_path: Path,
    rows: Iterable[Sequence[Any] | Mapping[str, Any]] | None = None,
    schema: Schema | None = None,
    *,
    table: str = "t",
    **write_options: Any,
) -> list[Path]:
    """Write rows as a packet set ``{tmp_path}/{table}.tdtp.xml`` and return its parts.

    Without ``rows`` it writes the type matrix. ``write_options`` go to
    :func:`tdtp_core.packet.write_packets` (``compress``, ``integrity``, ``part_size``…).
    """
    from tdtp_core.packet import write_packets

    if rows is None:
        rows, schema = TYPE_MATRIX_ROWS, schema or TYPE_MATRIX_SCHEMA
    stream = make_stream(rows, schema, table=table)
    return write_packets(stream, tmp_path / f"{table}.tdtp.xml", **write_options)
