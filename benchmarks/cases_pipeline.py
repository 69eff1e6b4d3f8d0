"""A pipeline (SQLite extract → join in the workspace → compressed packets) against the
same join run by the ``sqlite3`` shell with CSV output (issue #7).

    python -m benchmarks.harness pipeline --rows 1000000

``prepare`` builds ``src.db``: the generated table ``t`` (created and filled by tdtp, as
in the ``sqlite`` suite) and a 1,000-row lookup table ``lookup`` keyed by ``k`` (0–999),
which every row of ``t`` joins on ``t.id % 1000``; and ``join.yaml``, a pipeline with both
tables as sources, that join as its transform and one ``tdtp`` output with
``compress: true``. The pipeline's workspace is the default (in memory).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.datagen import SCHEMA, rows
from benchmarks.harness import case

PAIRS = [
    ("pipeline_join_packet", "join_csv_sqlite3"),
]
TABLE = "t"
LOOKUP = "lookup"
LOOKUP_ROWS = 1000
_REGIONS = ["north", "south", "east", "west", "центр"]
JOIN_SQL = (
    f"SELECT t.id, t.name, t.email, t.note, t.amount, t.score, t.active, t.created, "
    f"l.label, l.region FROM {TABLE} t JOIN {LOOKUP} l ON l.k = t.id % {LOOKUP_ROWS}"
)
PIPELINE = f"""\
name: bench-join
sources:
  - name: {TABLE}
    url: sqlite:///src.db
    table: {TABLE}
  - name: {LOOKUP}
    url: sqlite:///src.db
    table: {LOOKUP}
transform:
  result_table: joined
  key: [id]
  sql: |
    {JOIN_SQL}
outputs:
  - type: tdtp
    destination: out/joined.tdtp.xml
    compress: true
"""


def _url(db: Path) -> str:
    return f"sqlite:///{db}"


def prepare(workdir: Path, n: int) -> None:
    from tdtp_core import Field, Schema, TableStream
    from tdtp_core.plugins import get_host

    host = get_host()
    src = host.adapter_for_url(_url(workdir / "src.db"))
    src.write(TableStream.from_rows(SCHEMA, rows(n), table=TABLE), create=True,
              strategy="copy")
    lookup = Schema([Field("k", "INTEGER", key=True), Field("label", "TEXT"),
                     Field("region", "TEXT")])
    src.write(TableStream.from_rows(
        lookup, ((k, f"label {k:04d}", _REGIONS[k % len(_REGIONS)])
                 for k in range(LOOKUP_ROWS)), table=LOOKUP), create=True, strategy="copy")
    src.close()
    (workdir / "join.yaml").write_text(PIPELINE, encoding="utf-8")


@case("join_csv_sqlite3")
def join_csv_sqlite3(workdir: Path, n: int) -> Any:
    """``sqlite3 -csv src.db "SELECT … FROM t JOIN lookup …" > out.csv``."""
    with open(workdir / "out.csv", "wb") as out:
        subprocess.run(["sqlite3", "-csv", str(workdir / "src.db"), JOIN_SQL],
                       stdout=out, check=True)


@case("pipeline_join_packet")
def pipeline_join_packet(workdir: Path, n: int) -> Any:
    """What ``tdtp pipeline run join.yaml`` does: both sources extracted into the
    workspace, the join, one compressed packet set written."""
    from tdtp_core.pipeline import load_pipeline, run_pipeline

    summary = run_pipeline(load_pipeline(workdir / "join.yaml"))
    summary.raise_for_error()
    out = workdir / "out"
    parts = sorted(out.glob("joined.tdtp*.xml*"))
    count = len(parts)
    shutil.rmtree(out)
    written = sum(o["rows"] for o in summary.as_dict()["outputs"])
    return {"parts": count, "rows": written}
