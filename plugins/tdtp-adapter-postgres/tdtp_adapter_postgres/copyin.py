"""Bound columns to ``COPY … FROM STDIN`` text, a column at a time: the import lane.

psycopg's ``write_row`` formats row by row; here each column becomes text with one
C-level ``map`` (the values of a bound column share one Python type, as the write plan
leaves them), strings are escaped with a few replacements on the joined column, and the
rows are joined once. Cells a shortcut carried through unchanged (canonical numbers,
days, RFC 3339 UTC instants) are text PostgreSQL reads as the typed path's values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

NULL = "\\N"
_SEP = "\x00"
_TEXT_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _escape(values: Sequence[str]) -> Sequence[str]:
    """COPY's text escaping of a column of strings: backslash, LF, CR and tab."""
    joined = _SEP.join(values)
    if not any(ch in joined for ch, _ in _TEXT_ESCAPES):
        return values
    for ch, escaped in _TEXT_ESCAPES:
        joined = joined.replace(ch, escaped)
    return joined.split(_SEP)


def _bytea(value: bytes | bytearray | memoryview) -> str:
    """bytea's hex input; COPY's escaping then doubles the backslash."""
    return "\\x" + bytes(value).hex()


#: Text PostgreSQL reads back as the value, per Python type of a bound value.
_FORMATS: dict[type, Callable[[Any], str]] = {
    int: int.__repr__,
    float: float.__repr__,  # "inf", "-inf" and "nan" are read too
    bool: bool.__repr__,  # "True" / "False"
    Decimal: Decimal.__str__,
    date: date.isoformat,
    datetime: datetime.isoformat,
    time: time.isoformat,
    bytes: _bytea,
    bytearray: _bytea,
    memoryview: _bytea,
}


def _present(values: Sequence[Any]) -> Sequence[str]:
    """The non-NULL values of one column as COPY text."""
    types = set(map(type, values))
    if types <= {str}:
        return _escape(values)
    if len(types) == 1:
        return _escape(list(map(_FORMATS.get(types.pop(), str), values)))
    return _escape([v if isinstance(v, str) else _FORMATS.get(type(v), str)(v)
                    for v in values])


def column_text(values: Sequence[Any]) -> Sequence[str]:
    """One bound column as COPY text cells, NULL as ``\\N``."""
    if None not in values:
        return _present(values)
    texts = iter(_present([v for v in values if v is not None]))
    return [NULL if v is None else next(texts) for v in values]


def copy_text(columns: Sequence[Sequence[Any]]) -> bytes:
    """A batch of bound columns as COPY text, one line per row."""
    lines = map("\t".join, zip(*map(column_text, columns), strict=True))
    return ("\n".join(lines) + "\n").encode("utf-8")
