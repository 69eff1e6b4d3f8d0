"""The xlsx format passes tdtp's format conformance suite, on the type matrix narrowed
to what an Excel cell can hold."""

from __future__ import annotations

import math
from datetime import datetime, time
from typing import Any, ClassVar

from tdtp_core.testing import TYPE_MATRIX_ROWS, FormatConformance

#: The most bytes whose Base64 text fits in one Excel cell (32767 characters).
LARGEST_BLOB = 32767 // 4 * 3


def excel_value(value: Any) -> Any:
    """``value`` as near as a cell can hold it: an Excel cell has at most 32767
    characters (the type matrix's 100 KB BLOB is 133336 of Base64; writing it is a
    SchemaError, tested in tests/formats/test_xlsx.py), Excel keeps time to the
    millisecond, and openpyxl writes numbers with 16 significant digits."""
    if isinstance(value, bytes) and len(value) > LARGEST_BLOB:
        return value[:LARGEST_BLOB]
    if isinstance(value, datetime | time):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, float):
        while math.isfinite(value) and float(f"{value:.16g}") != value:
            value = math.nextafter(value, 0.0)
    return value


class TestXlsxConformance(FormatConformance):
    plugin = "tdtp_format_xlsx"
    component = "xlsx"
    rows: ClassVar[list[tuple[Any, ...]]] = [
        tuple(excel_value(v) for v in row) for row in TYPE_MATRIX_ROWS]
