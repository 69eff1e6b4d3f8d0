"""Helpers shared by the packet tests: a hand-made packet builder and value comparison."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n'
TWO_FIELDS = (
    '<Field name="id" type="INTEGER" key="true"></Field>'
    '<Field name="name" type="TEXT" length="100"></Field>'
)


def build_packet(
    *,
    rows: Sequence[str] = ("1|Alice", "2|Bob"),
    fields: str = TWO_FIELDS,
    packet_type: str = "reference",
    table: str = "users",
    message_id: str = "REF-2026-0000abcd-P1",
    part: tuple[int, int] | None = (1, 1),
    records: int | bool | None = None,
    timestamp: str | None = "2026-01-01T00:00:00Z",
    version: str = "1.0",
    protocol: str | None = "TDTP",
    root_tag: str = "DataPacket",
    root_attrs: str = "",
    schema_attrs: str = "",
    data_attrs: str = "",
    header_extra: str = "",
    header: str | None = None,
    before_schema: str = "",
    after_data: str = "",
    prolog: str = PROLOG,
) -> bytes:
    """A packet in the reference's single-line form; every piece can be overridden.

    ``rows`` are inserted verbatim (already XML-escaped). ``records=None`` writes
    ``RecordsInPart`` = number of rows, ``records=False`` leaves it out. ``header``
    replaces the whole ``<Header>`` body.
    """
    if header is None:
        pieces = [f"<Type>{packet_type}</Type>", f"<TableName>{table}</TableName>",
                  f"<MessageID>{message_id}</MessageID>"]
        if part is not None:
            pieces.append(f"<PartNumber>{part[0]}</PartNumber><TotalParts>{part[1]}</TotalParts>")
        if records is None:
            records = len(rows)
        if records is not False and records:
            pieces.append(f"<RecordsInPart>{int(records)}</RecordsInPart>")
        if timestamp is not None:
            pieces.append(f"<Timestamp>{timestamp}</Timestamp>")
        pieces.append(header_extra)
        header = "".join(pieces)
    proto = f' protocol="{protocol}"' if protocol is not None else ""
    body = "".join(f"<R>{r}</R>" for r in rows)
    text = (
        f'{prolog}<{root_tag}{proto} version="{version}"{root_attrs}>'
        f"<Header>{header}</Header>{before_schema}"
        f"<Schema{schema_attrs}>{fields}</Schema>"
        f"<Data{data_attrs}>{body}</Data>{after_data}</{root_tag}>"
    )
    return text.encode("utf-8")


def ts(text: str) -> datetime:
    """An aware UTC datetime from RFC 3339 text."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def same_value(expected: Any, actual: Any) -> bool:
    """Exact equality of decoded cells: NaN equals NaN, signs of zero and types count."""
    if expected is None or actual is None:
        return expected is actual
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, float):
        if math.isnan(expected):
            return math.isnan(actual)
        return expected == actual and math.copysign(1, expected) == math.copysign(1, actual)
    if isinstance(expected, Decimal):
        if expected.is_nan():
            return actual.is_nan()
        return expected == actual and expected.is_signed() == actual.is_signed()
    if isinstance(expected, datetime):
        return expected == actual and (expected.tzinfo is None) == (actual.tzinfo is None)
    return bool(expected == actual)


def assert_rows_equal(expected: Sequence[Sequence[Any]], actual: Sequence[Sequence[Any]]) -> None:
    assert len(actual) == len(expected), f"{len(actual)} rows read, {len(expected)} expected"
    for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert len(got) == len(want), f"row {i + 1}: {got!r} != {want!r}"
        for j, (w, g) in enumerate(zip(want, got, strict=True)):
            assert same_value(w, g), f"row {i + 1} cell {j + 1}: read {g!r}, expected {w!r}"


@contextmanager
def sizes(*, feed: int | None = None, hold: int | None = None) -> Iterator[None]:
    """Read with smaller parser blocks or a smaller hold limit than the defaults."""
    import pytest

    from tdtp_core.packet import reader

    with pytest.MonkeyPatch.context() as mp:
        if feed is not None:
            mp.setattr(reader, "_FEED_BYTES", feed)
        if hold is not None:
            mp.setattr(reader, "_HOLD_CELLS", hold)
        yield
