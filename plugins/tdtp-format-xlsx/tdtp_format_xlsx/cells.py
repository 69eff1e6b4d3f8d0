"""TDTP values ↔ Excel cell values, a column at a time.

Writing, by TDTP type:

==========  ===================================================================
INTEGER     number; beyond ±(10^15 − 1) a text cell (Excel's doubles would round it)
REAL        number; NaN, INF and -INF as those texts (Excel has no such numbers)
DECIMAL     number with up to 15 significant digits, else a text cell (exact)
BOOLEAN     Excel boolean
DATE        Excel date; before 1900-01-01 an ISO text cell; "no date" 0000-00-00
TIMESTAMP   Excel date-time, in UTC; before 1900 RFC 3339 text; milliseconds kept,
            finer fractions rounded to the millisecond (Excel's resolution), but never
            past 9999-12-31 23:59:59.999 (Excel's last instant)
time        Excel time (fields with subtype ``time``), to the millisecond, never rounded
            past 23:59:59.999 into the next day
BLOB        Base64 text
TEXT        text; "" an empty text cell, NULL no cell; ``=…`` stays text, never a formula
==========  ===================================================================

Reading turns each cell back by the field's type; text cells holding what the writer
put in text (long numbers, NaN, pre-1900 dates, Base64) are parsed as TDTP cell text.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DATE_KINDS,
    DECIMAL,
    INF_MARKER,
    INTEGER,
    NAN_MARKER,
    NEG_INF_MARKER,
    NO_DATE_MARKER,
    NODATE,
    REAL,
    Field,
)
from tdtp_core.values import text_parser, timestamp_text

#: Integers Excel stores exactly (15 significant digits), as the reference writes them.
INT_LIMIT = 10**15
FIRST_EXCEL_DATE = date(1900, 1, 1)
#: The latest date-time and time of day Excel holds (its resolution is the millisecond):
#: later values would round into a serial Excel cannot show, or wrap to midnight.
LAST_EXCEL_INSTANT = datetime(9999, 12, 31, 23, 59, 59, 999000)
LAST_EXCEL_TIME = time(23, 59, 59, 999000)
MAX_TEXT = 32767
#: Excel's error values: NULL when read from a workbook tdtp did not write.
ERROR_VALUES = frozenset({"#N/A", "#DIV/0!", "#NUM!", "#VALUE!", "#REF!", "#NAME?", "#NULL!",
                          "#GETTING_DATA"})

ColumnWriter = Callable[[Sequence[Any]], list[Any]]


# --------------------------------------------------------------------------- writing


def _float_cell(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if value != value:
        return NAN_MARKER
    return INF_MARKER if value > 0 else NEG_INF_MARKER


def _decimal_cell(value: Decimal) -> Decimal | str:
    if not value.is_finite():
        return NAN_MARKER if value.is_nan() else (INF_MARKER if value > 0 else NEG_INF_MARKER)
    return value if len(value.as_tuple().digits) <= 15 else format(value, "f")


def _date_cell(value: Any) -> Any:
    if value is NODATE:
        return NO_DATE_MARKER
    return value if value >= FIRST_EXCEL_DATE else value.isoformat()


def _timestamp_cell(value: Any) -> Any:
    if value is NODATE:
        return NO_DATE_MARKER
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return min(value, LAST_EXCEL_INSTANT) if value.year >= 1900 else timestamp_text(value)


def _each(convert: Callable[[Any], Any]) -> ColumnWriter:
    def column(values: Sequence[Any]) -> list[Any]:
        return [None if v is None else convert(v) for v in values]

    return column


def value_writer(field: Field) -> ColumnWriter | None:
    """Python values → cell values for a non-text field (None: values go in as they are);
    TEXT is the caller's, since its cells need the worksheet."""
    if field.is_time:
        return _each(lambda v: min(v.replace(tzinfo=None), LAST_EXCEL_TIME))
    kind = field.kind
    if kind == INTEGER:
        return _each(lambda v: v if -INT_LIMIT < v < INT_LIMIT else str(v))
    if kind == REAL:
        return _each(_float_cell)
    if kind == DECIMAL:
        return _each(_decimal_cell)
    if kind == DATE:
        return _each(_date_cell)
    if kind in DATE_KINDS:
        return _each(_timestamp_cell)
    if kind == BLOB:
        return _each(lambda v: base64.b64encode(v).decode("ascii"))
    return None


# --------------------------------------------------------------------------- reading


def _number_text(value: int | float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def cell_text(value: Any) -> str:
    """A non-text cell value as text, the way a TEXT field reads it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def value_reader(field: Field) -> Callable[[Any], Any]:
    """A cell value (not None) → the field's Python value; raises ValueError or
    TypeError when the cell does not fit the type."""
    parse = text_parser(field)
    aware = bool(field.timezone)
    kind = field.kind

    def from_text(text: str) -> Any:
        text = text.strip()
        if not text:  # an empty text cell: b"" for a BLOB (NULL has no cell)
            return b"" if kind == BLOB else None
        if text == NO_DATE_MARKER and kind in DATE_KINDS:
            return NODATE
        assert parse is not None
        return parse(text)

    if parse is None:  # TEXT
        return lambda v: v if isinstance(v, str) else cell_text(v)

    def read(value: Any) -> Any:
        if isinstance(value, str):
            return from_text(value)
        if field.is_time:
            if isinstance(value, time):
                return value
            if isinstance(value, datetime):
                return value.time()
        elif kind == INTEGER:
            if isinstance(value, bool) or not (isinstance(value, int) or value.is_integer()):
                raise ValueError(value)
            return int(value)
        elif kind == REAL:
            return float(value)
        elif kind == DECIMAL:
            number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
            scale = field.scale
            if scale is not None and number.as_tuple().exponent < -scale:  # type: ignore[operator]
                number = number.quantize(Decimal(1).scaleb(-scale))
            return number
        elif kind == BOOLEAN:
            if isinstance(value, bool | int | float):
                return bool(value)
        elif kind == DATE:
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            if isinstance(value, int | float):
                return from_serial(value).date()
        elif kind in DATE_KINDS:
            if isinstance(value, int | float):
                value = from_serial(value)
            if isinstance(value, datetime):
                return value.replace(tzinfo=UTC) if aware else value
            if isinstance(value, date):
                stamp = datetime(value.year, value.month, value.day)
                return stamp.replace(tzinfo=UTC) if aware else stamp
        raise TypeError(f"a {type(value).__name__} cell")

    return read


def from_serial(serial: float) -> datetime:
    """An Excel 1900-system serial number as a date-time (for cells with no date format)."""
    from openpyxl.utils.datetime import from_excel

    value = from_excel(serial)
    if not isinstance(value, datetime):
        raise ValueError(serial)
    return value
