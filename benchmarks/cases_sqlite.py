"""SQLite ⇄ packet against the ``sqlite3`` shell's CSV export/import, and against pandas.

    python -m benchmarks.harness sqlite --rows 1000000

``prepare`` builds ``src.db`` (the generated table ``t``, created and filled by tdtp so
its column types are the ones ``tdtp import --create`` makes), ``empty.db`` (the same
table, no rows), the CSV the shell exports, and the packet set tdtp exports. Every
import case starts from a copy of ``empty.db``; the copy is part of both sides' time.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.datagen import SCHEMA, rows
from benchmarks.harness import case

PAIRS = [
    ("export_packet", "export_csv_sqlite3"),
    ("import_packet", "import_csv_sqlite3"),
    ("export_packet", "export_pandas"),
    ("import_packet", "import_pandas"),
]
TABLE = "t"


def _url(db: Path) -> str:
    return f"sqlite:///{db}"


def prepare(workdir: Path, n: int) -> None:
    from tdtp_core import TableStream, write_packets
    from tdtp_core.plugins import get_host

    host = get_host()
    src = host.adapter_for_url(_url(workdir / "src.db"))
    src.write(TableStream.from_rows(SCHEMA, rows(n), table=TABLE), create=True,
              strategy="copy")
    empty = host.adapter_for_url(_url(workdir / "empty.db"))
    empty.write(TableStream.from_rows(SCHEMA, [], table=TABLE), create=True)
    for adapter in (src, empty):
        adapter.close()
    with open(workdir / "input.csv", "wb") as out:
        subprocess.run(["sqlite3", "-csv", str(workdir / "src.db"), f"SELECT * FROM {TABLE}"],
                       stdout=out, check=True)
    write_packets(host.adapter_for_url(_url(workdir / "src.db")).read(TABLE),
                  workdir / "input.tdtp.xml")


def _packets(workdir: Path) -> list[Path]:
    return sorted(workdir.glob("input.tdtp*.xml"))


def _fresh(workdir: Path) -> Path:
    target = workdir / "target.db"
    for stale in workdir.glob("target.db*"):
        stale.unlink()
    shutil.copyfile(workdir / "empty.db", target)
    return target


@case("export_csv_sqlite3")
def export_csv_sqlite3(workdir: Path, n: int) -> Any:
    """``sqlite3 -csv db "select * from t" > out.csv``."""
    with open(workdir / "out.csv", "wb") as out:
        subprocess.run(["sqlite3", "-csv", str(workdir / "src.db"), f"SELECT * FROM {TABLE}"],
                       stdout=out, check=True)


@case("export_packet")
def export_packet(workdir: Path, n: int) -> Any:
    """What ``tdtp export sqlite:///src.db t -o out.tdtp.xml`` does."""
    from tdtp_core import write_packets
    from tdtp_core.plugins import get_host

    adapter = get_host().adapter_for_url(_url(workdir / "src.db"))
    paths = write_packets(adapter.read(TABLE), workdir / "out.tdtp.xml")
    for p in paths:
        p.unlink()
    return len(paths)


@case("export_pandas")
def export_pandas(workdir: Path, n: int) -> Any:
    """``pandas.read_sql`` + ``DataFrame.to_csv``."""
    import sqlite3

    import pandas as pd

    with sqlite3.connect(workdir / "src.db") as conn:
        frame = pd.read_sql(f"SELECT * FROM {TABLE}", conn)
    frame.to_csv(workdir / "out.csv", index=False)
    return len(frame)


@case("import_csv_sqlite3")
def import_csv_sqlite3(workdir: Path, n: int) -> Any:
    """``sqlite3 db ".import --csv out.csv t"`` into the empty table."""
    target = _fresh(workdir)
    subprocess.run(["sqlite3", str(target), f".import --csv {workdir / 'input.csv'} {TABLE}"],
                   check=True)


@case("import_packet")
def import_packet(workdir: Path, n: int) -> Any:
    """What ``tdtp import input.tdtp.xml sqlite:///target.db`` does (strategy replace)."""
    from tdtp_core import read_packets
    from tdtp_core.plugins import get_host

    target = _fresh(workdir)
    adapter = get_host().adapter_for_url(_url(target))
    return adapter.write(read_packets(*_packets(workdir))).rows


@case("import_pandas")
def import_pandas(workdir: Path, n: int) -> Any:
    """``pandas.read_csv`` + ``DataFrame.to_sql`` into the empty table."""
    import sqlite3

    import pandas as pd

    target = _fresh(workdir)
    frame = pd.read_csv(workdir / "input.csv", header=None, names=SCHEMA.names)
    with sqlite3.connect(target) as conn:
        frame.to_sql(TABLE, conn, if_exists="append", index=False)
    return len(frame)
