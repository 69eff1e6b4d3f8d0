"""Filter values typed by their field: what both executors (memory and SQL) agree on.

A filter literal is parsed with the field's type (DECISIONS 10), so ``Balance > 1000``
compares numbers and ``d < '2024-02-01'`` compares dates. Literals that make every
comparison unknown (NULL, NaN, "no date") are recognised once, at compile time.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tdtp_core.errors import QueryError, SchemaError
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    INTEGER,
    NODATE,
    REAL,
    TEXT,
    TIMESTAMP,
    Field,
    Schema,
)
from tdtp_core.values import parse_value


def field_index(schema: Schema, name: str) -> int:
    """Position of ``name`` (exact, else case-insensitive); unknown is a QueryError."""
    try:
        return schema.index(name)
    except SchemaError:
        known = ", ".join(schema.names) or "none"
        raise QueryError(f"field {name!r} not found in schema (fields: {known})") from None


def parse_literal(field: Field, text: str) -> Any:
    """``text`` as a value of ``field``'s type. SpecialValues markers are wire encoding,
    not query syntax, so ``'[NULL]'`` stays that text; an empty literal is NULL for
    non-text types (spec §2.4)."""
    plain = field.replace(special_values=None) if field.special_values else field
    try:
        return parse_value(plain, text)
    except SchemaError as exc:
        raise QueryError(f"filter value does not fit: {exc.message}") from None


def is_unknown(value: Any) -> bool:
    """NULL, NaN and "no date": every comparison with them is unknown, never true."""
    if value is None or value is NODATE:
        return True
    if isinstance(value, float):
        return value != value
    return isinstance(value, Decimal) and value.is_nan()


def list_items(value: str) -> list[str]:
    """An ``in``/``not_in`` value split as the reference splits it: on ``,``, trimmed."""
    return [item.strip() for item in value.split(",")]


def like_regex(pattern: str) -> re.Pattern[str]:
    """SQL LIKE as a whole-string regex: ``%`` any run, ``_`` one character, no escape
    character; DOTALL so ``%`` spans newlines as it does in SQL."""
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL)


#: Field types LIKE matches by their TDTP cell text (``1``/``0`` for BOOLEAN, ``YYYY-MM-DD``
#: for DATE): text every database renders exactly as a packet holds it.
LIKE_KINDS = frozenset({TEXT, INTEGER, BOOLEAN, DATE})


def check_like_field(field: Field) -> None:
    """Refuse LIKE on a field whose text differs between packets and databases (REAL,
    DECIMAL, timestamps, times of day, BLOB): the same pattern would keep other rows
    depending on where the query runs."""
    if field.kind in LIKE_KINDS and not field.is_time:
        return
    # Named by class: a database column says TIMESTAMP where the packet says DATETIME.
    what = ("a time of day" if field.is_time else _LIKE_REFUSED.get(field.kind)
            or f"type {field.kind}")
    raise QueryError(
        f"LIKE cannot match field {field.name!r} ({what}): its text differs between "
        "databases and packets; compare it with =, <, > or BETWEEN instead"
    )


_LIKE_REFUSED = {REAL: "a number", DECIMAL: "a number", DATETIME: "a date-time",
                 TIMESTAMP: "a date-time", BLOB: "binary"}
