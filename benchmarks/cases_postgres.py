"""PostgreSQL ⇄ packet against ``psql``'s ``\\copy`` to and from CSV, and against pandas.

    python -m benchmarks.harness postgres --rows 1000000

The server is ``TDTP_BENCH_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
``prepare`` creates ``tdtp_bench`` (the generated table, created and filled by tdtp so
its column types are the ones ``tdtp import --create`` makes) and an empty
``tdtp_bench_target`` like it, and writes the CSV psql exports and the packet set tdtp
exports. Every import case starts by emptying the target table, inside its own time.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.datagen import SCHEMA, rows
from benchmarks.harness import case

PAIRS = [
    ("export_packet", "export_csv_psql"),
    ("import_packet", "import_csv_psql"),
    ("export_packet", "export_pandas"),
    ("import_packet", "import_pandas"),
]
URL = os.environ.get("TDTP_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SOURCE = "tdtp_bench"
TARGET = "tdtp_bench_target"


def _psql(command: str) -> None:
    u = urlsplit(URL)
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", u.hostname or "localhost",
         "-p", str(u.port or 5432), "-U", u.username or "postgres",
         "-d", u.path.lstrip("/"), "-c", command],
        check=True, env={**os.environ, "PGPASSWORD": u.password or ""},
    )


def prepare(workdir: Path, n: int) -> None:
    from tdtp_core import TableStream, write_packets
    from tdtp_core.plugins import get_host

    _psql(f"DROP TABLE IF EXISTS {SOURCE}, {TARGET}")
    adapter = get_host().adapter_for_url(URL)
    adapter.write(TableStream.from_rows(SCHEMA, rows(n), table=SOURCE), create=True,
                  strategy="copy")
    _psql(f"CREATE TABLE {TARGET} (LIKE {SOURCE} INCLUDING ALL)")
    _psql(f"VACUUM ANALYZE {SOURCE}")
    _psql(f"\\copy {SOURCE} to '{workdir / 'input.csv'}' csv")
    write_packets(adapter.read(SOURCE), workdir / "input.tdtp.xml")


def _packets(workdir: Path) -> list[Path]:
    return sorted(workdir.glob("input.tdtp*.xml"))


@case("export_csv_psql")
def export_csv_psql(workdir: Path, n: int) -> Any:
    """``psql -c "\\copy t to 'out.csv' csv"``."""
    _psql(f"\\copy {SOURCE} to '{workdir / 'out.csv'}' csv")


@case("export_packet")
def export_packet(workdir: Path, n: int) -> Any:
    """What ``tdtp export postgresql://… tdtp_bench -o out.tdtp.xml`` does."""
    from tdtp_core import write_packets
    from tdtp_core.plugins import get_host

    paths = write_packets(get_host().adapter_for_url(URL).read(SOURCE),
                          workdir / "out.tdtp.xml")
    for p in paths:
        p.unlink()
    return len(paths)


@case("export_pandas")
def export_pandas(workdir: Path, n: int) -> Any:
    """``pandas.read_sql`` (SQLAlchemy engine) + ``DataFrame.to_csv``."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        frame = pd.read_sql(f"SELECT * FROM {SOURCE}", conn)
    frame.to_csv(workdir / "out.csv", index=False)
    return len(frame)


@case("import_csv_psql")
def import_csv_psql(workdir: Path, n: int) -> Any:
    """``psql -c "\\copy t from 'out.csv' csv"`` into the emptied table."""
    _psql(f"TRUNCATE {TARGET}")
    _psql(f"\\copy {TARGET} from '{workdir / 'input.csv'}' csv")


@case("import_packet")
def import_packet(workdir: Path, n: int) -> Any:
    """What ``tdtp import input.tdtp.xml postgresql://… --table tdtp_bench_target`` does
    (strategy replace) into the emptied table."""
    from tdtp_core import read_packets
    from tdtp_core.plugins import get_host

    _psql(f"TRUNCATE {TARGET}")
    adapter = get_host().adapter_for_url(URL)
    return adapter.write(read_packets(*_packets(workdir)), table=TARGET, force=True).rows


@case("import_pandas")
def import_pandas(workdir: Path, n: int) -> Any:
    """``pandas.read_csv`` + ``DataFrame.to_sql`` (SQLAlchemy engine) into the emptied
    table."""
    import pandas as pd
    import sqlalchemy as sa

    _psql(f"TRUNCATE {TARGET}")
    frame = pd.read_csv(workdir / "input.csv", header=None, names=SCHEMA.names,
                        true_values=["t"], false_values=["f"], parse_dates=["created"])
    engine = sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        frame.to_sql(TARGET, conn, if_exists="append", index=False)
    return len(frame)
