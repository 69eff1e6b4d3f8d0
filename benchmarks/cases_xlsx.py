"""XLSX export against pandas ``to_excel`` (openpyxl engine) on the same rows.

Target (issue #5): at most 1.5× at 100,000 rows (``--rows 100000``). Both sides start
from the same generated rows and end with a closed workbook on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.datagen import SCHEMA, rows
from benchmarks.harness import case

PAIRS = [("xlsx_tdtp", "xlsx_pandas")]


def prepare(workdir: Path, n: int) -> None:
    """Nothing to build: both cases generate their rows."""


@case("xlsx_tdtp")
def xlsx_tdtp(workdir: Path, n: int) -> Any:
    from tdtp_core import TableStream
    from tdtp_core.plugins import get_host

    out = workdir / "tdtp.xlsx"
    get_host().format("xlsx").write(TableStream.from_rows(SCHEMA, rows(n), table="bench"), out)
    return out.stat().st_size


@case("xlsx_pandas")
def xlsx_pandas(workdir: Path, n: int) -> Any:
    import pandas as pd

    out = workdir / "pandas.xlsx"
    frame = pd.DataFrame.from_records(rows(n), columns=SCHEMA.names)
    frame["created"] = frame["created"].dt.tz_localize(None)  # Excel has no time zones
    frame.to_excel(out, sheet_name="bench", index=False, engine="openpyxl")
    return out.stat().st_size
