"""Column types for files that declare none: CSV without a schema, sheets from other tools.

A reader makes a first pass over the data, feeds each column's values to a
:class:`ColumnGuess` (cell texts with :meth:`~ColumnGuess.add_texts`, Python values with
:meth:`~ColumnGuess.add_values`) and asks it for the narrowest field that holds all of
them. Empty cells and None say nothing about a type. One rule for every format, so a
table gets the same types from a CSV file as from a workbook.

==============================  ============================================
values seen                     field
==============================  ============================================
integers                        INTEGER
integers and fixed-point        DECIMAL, the largest scale seen, precision ≥ 18
  numbers (``12.50``)
any of those and ``1e5``,       REAL
  NaN, INF, or floats
``true``/``false``, booleans    BOOLEAN
``YYYY-MM-DD``, dates           DATE
dates and date-times            TIMESTAMP (``timezone="UTC"`` when a text had a zone)
``HH:MM:SS``, times of day      TIMESTAMP with ``subtype="time"``
anything else, or a mix         TEXT
==============================  ============================================

Texts stay TEXT when a number type would change them: ``007``, ``+5``, ``.5``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final

from tdtp_core.types import BOOLEAN, DATE, DECIMAL, INTEGER, REAL, TEXT, TIMESTAMP, Field

INT: Final = "int"
FIXED: Final = "fixed"
FLOAT: Final = "float"
#: NaN or infinity: a float only beside other numbers (alone it may be a name, "Nan").
SPECIAL: Final = "special"
BOOL: Final = "bool"
DAY: Final = "date"
INSTANT: Final = "datetime"
CLOCK: Final = "time"
STR: Final = "str"

#: DECIMAL precision inferred at least (the protocol's default), at most (SQL's limit).
MIN_PRECISION: Final = 18
MAX_PRECISION: Final = 38
_INT64: Final = 2**63

_INT = r"-?(?:0|[1-9][0-9]*)"
_FIXED = rf"{_INT}\.[0-9]+"
_INT_RE = re.compile(_INT)
_FIXED_RE = re.compile(_FIXED)
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")
_SPECIAL_RE = re.compile(r"[+-]?(?:inf(?:inity)?|nan)", re.IGNORECASE)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?")
_CLOCK_RE = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?")
_BOOL_TEXTS: Final = frozenset({"true", "false", "TRUE", "FALSE", "True", "False"})
#: Whole columns (cells joined by U+0000) checked by one regex call each.
_INT_COLUMN = re.compile(f"{_INT}(?:\x00{_INT})*")
_NUMBER_COLUMN = re.compile(f"{_INT}(?:\\.[0-9]+)?(?:\x00{_INT}(?:\\.[0-9]+)?)*")
_DATE_COLUMN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:\x00[0-9]{4}-[0-9]{2}-[0-9]{2})*")


def value_category(value: Any) -> str:
    """What a Python value (a workbook cell) is, for :class:`ColumnGuess`."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, Decimal):
        return FIXED if value.is_finite() else SPECIAL
    if isinstance(value, datetime):
        return DAY if value.time() == time(0) and value.tzinfo is None else INSTANT
    if isinstance(value, time):
        return CLOCK
    if isinstance(value, date):
        return DAY
    return STR


def text_category(text: str) -> str:
    """What a non-empty cell text is, for :class:`ColumnGuess` (its parse decides)."""
    if _INT_RE.fullmatch(text):
        return INT if -_INT64 <= int(text) < _INT64 else _fixed_or_text(text)
    if _FIXED_RE.fullmatch(text):
        return _fixed_or_text(text)
    if _FLOAT_RE.fullmatch(text):
        return FLOAT if math.isfinite(float(text)) else STR
    if _SPECIAL_RE.fullmatch(text):
        return SPECIAL
    if text in _BOOL_TEXTS:
        return BOOL
    try:
        if _DATE_RE.fullmatch(text):
            date.fromisoformat(text)
            return DAY
        if _INSTANT_RE.fullmatch(text):
            datetime.fromisoformat(text)
            return INSTANT
        if _CLOCK_RE.fullmatch(text):
            time.fromisoformat(text)
            return CLOCK
    except ValueError:
        pass
    return STR


def _zoned(text: str) -> bool:
    match = _INSTANT_RE.fullmatch(text)
    return match is not None and match.group(1) is not None


def _fixed_or_text(text: str) -> str:
    whole, _, fraction = text.lstrip("-").partition(".")
    return FIXED if len(whole) + len(fraction) <= MAX_PRECISION else STR


class ColumnGuess:
    """What one column has held so far, and the field that holds it."""

    __slots__ = ("digits", "kinds", "scale", "zoned")

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        #: Most digits seen before the point, and after it (for DECIMAL).
        self.digits = 0
        self.scale = 0
        #: A date-time text carried a zone (``Z``, ``+02:00``).
        self.zoned = False

    @property
    def settled(self) -> bool:
        """Nothing more can change the answer: the column is TEXT."""
        return STR in self.kinds

    def add_values(self, values: Iterable[Any]) -> None:
        """Python values; None is NULL and says nothing."""
        for value in values:
            if value is None or self.settled:
                continue
            kind = value_category(value)
            self.kinds.add(kind)
            if kind == INT:
                self.digits = max(self.digits, len(str(abs(value))))
            elif kind == FIXED:
                self._number(format(value, "f"))
            elif kind == INSTANT:
                self.zoned = self.zoned or value.tzinfo is not None

    def add_texts(self, texts: Sequence[str]) -> None:
        """Cell texts of a batch; an empty cell is NULL and says nothing."""
        if self.settled:
            return
        present = [t for t in texts if t]
        if not present:
            return
        if self._whole_column(present):
            return
        for text in present:
            kind = text_category(text)
            self.kinds.add(kind)
            if kind in (INT, FIXED):
                self._number(text)
            elif kind == INSTANT:
                self.zoned = self.zoned or _zoned(text)
            elif kind == STR:
                return

    def _whole_column(self, present: list[str]) -> bool:
        """The common cases in a few C-level calls: a column of integers, of numbers,
        of dates or of booleans. False: look at each cell."""
        joined = "\x00".join(present)
        if _INT_COLUMN.fullmatch(joined):
            if max(map(len, present)) > 18:  # may be beyond 64 bits
                return False
            self.kinds.add(INT)
            self.digits = max(self.digits, max(map(len, present)))
            return True
        if "." in joined and _NUMBER_COLUMN.fullmatch(joined):
            parts = [t.lstrip("-").partition(".") for t in present]
            digits = max(len(w) for w, _, _ in parts)
            scale = max(len(f) for _, _, f in parts)
            if digits + scale > MAX_PRECISION:
                return False
            self.kinds.update((FIXED, INT) if "" in (f for _, _, f in parts) else (FIXED,))
            self.digits, self.scale = max(self.digits, digits), max(self.scale, scale)
            return True
        if _DATE_COLUMN.fullmatch(joined):
            try:
                list(map(date.fromisoformat, present))
            except ValueError:
                return False
            self.kinds.add(DAY)
            return True
        if _BOOL_TEXTS.issuperset(present):
            self.kinds.add(BOOL)
            return True
        return False

    def _number(self, text: str) -> None:
        whole, _, fraction = text.lstrip("-").partition(".")
        self.digits = max(self.digits, len(whole))
        self.scale = max(self.scale, len(fraction))

    def field(self, name: str) -> Field:
        """The narrowest field holding every value seen; TEXT when nothing else does."""
        kinds = self.kinds
        if not kinds or STR in kinds:
            return Field(name, TEXT)
        if kinds == {BOOL}:
            return Field(name, BOOLEAN)
        if kinds == {INT}:
            return Field(name, INTEGER)
        if FIXED in kinds and kinds <= {INT, FIXED}:
            precision = max(MIN_PRECISION, self.digits + self.scale)
            if precision <= MAX_PRECISION:
                return Field(name, DECIMAL, precision=precision, scale=self.scale)
            return Field(name, REAL)
        if kinds & {INT, FIXED, FLOAT} and kinds <= {INT, FIXED, FLOAT, SPECIAL}:
            return Field(name, REAL)
        if kinds == {DAY}:
            return Field(name, DATE)
        if kinds <= {DAY, INSTANT}:
            return Field(name, TIMESTAMP, timezone="UTC" if self.zoned else None)
        if kinds == {CLOCK}:
            return Field(name, TIMESTAMP, subtype="time")
        return Field(name, TEXT)
