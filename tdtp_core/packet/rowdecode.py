"""Row strings to typed rows in C, for the reader (``_rowdecode.c``).

The pure-Python decode (split into text columns, resolve escapes, convert each column,
zip the columns into rows) makes a Python object per cell at every step. The compiled
decoder does it in one pass per row, for the canonical form of each type; a run holding
anything else is decoded by the Python path, which gives the same values or names the
bad cell. Without a C compiler at install time the Python path does all of it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tdtp_core.types import BOOLEAN, DATE, DATE_KINDS, DECIMAL, INTEGER, REAL, Field, Schema
from tdtp_core.values import special_values_map, text_parser

compiled: ModuleType | None
try:
    from tdtp_core.packet import _rowdecode as compiled
except ImportError:  # built without a C compiler
    compiled = None

_CODES = {INTEGER: "i", REAL: "r", DECIMAL: "d", BOOLEAN: "b", DATE: "D"}


def _code(f: Field) -> str | None:
    if f.is_time:
        return None
    if f.kind in _CODES:
        return _CODES[f.kind]
    if f.kind in DATE_KINDS:
        return "Z" if f.timezone else "T"  # a declared zone: aware, in UTC
    return "s" if text_parser(f) is None else None  # the text-like kinds


def decoder_for(schema: Schema) -> Any | None:
    """The compiled decoder of a part's rows under ``schema`` (its special values
    included), or None when a field has no code (binary, times of day), the schema has
    a dictionary, or the module was not built."""
    if compiled is None or schema.dictionary:
        return None
    codes = [_code(f) for f in schema.fields]
    if not codes or None in codes:
        return None
    return compiled.RowDecoder("".join(c for c in codes if c is not None),
                               tuple(special_values_map(f) for f in schema.fields))
