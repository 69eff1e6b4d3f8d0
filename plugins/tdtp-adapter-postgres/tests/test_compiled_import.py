"""The COPY text import lane (``tdtp_core.sql.bulktext``) against the typed path, on the
live server: whatever cells a packet carries (odd forms included, see
``tdtp_core.testing.cells``), importing with the C lane must leave the table exactly as
the typed path leaves it, or fail with the same message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdtp_core import read_packets
from tdtp_core.errors import TdtpError
from tdtp_core.plugins import get_host
from tdtp_core.sql import bulktext
from tdtp_core.testing import services
from tdtp_core.testing.cells import ODD_PAIRS, cell_packet, clean_lane_rows, lane_rows, with_cell

postgres_url = services.postgres_url

COLUMNS = ("id bigint PRIMARY KEY, i bigint, r double precision, d numeric(12, 2), "
           "b boolean, dt date, ts timestamptz, s text, s5 varchar(5), nn integer NOT NULL")
#: What the comparison reads: every value as the server prints it.
SELECT = ("SELECT id, i, r::text, d::text, b, dt::text, "
          "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), s, s5, nn "
          "FROM {table} ORDER BY id")


class _Counting:
    """The compiled module, counting the batches handed to its COPY text lane."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.batches = 0

    def copy_rows(self, *args: Any) -> Any:
        self.batches += 1
        return self.module.copy_rows(*args)


@pytest.fixture(scope="module")
def compiled_module() -> Any:
    return services.require_compiled(bulktext.compiled, "tdtp_core.sql._bulktext")


@pytest.fixture
def target(postgres_url: str) -> Iterator[tuple[sa.Engine, str]]:
    """An engine and a unique table name, dropped afterwards."""
    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    table = services.unique_table("lane")
    yield engine, table
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    engine.dispose()


def _import(packets: list[Path], url: str, engine: sa.Engine, table: str, module: Any, *,
            compiled: bool, batch_size: int = 4, strategy: str = "replace",
            ) -> tuple[str | None, list[Any], int]:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        conn.exec_driver_sql(f"CREATE TABLE {table} ({COLUMNS})")
    calls = _Counting(module)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulktext, "compiled", calls if compiled else None)
        adapter = get_host().adapter_for_url(url)
        try:
            # force: both imports share the server's ledger
            adapter.write(read_packets(packets[0], batch_size=batch_size), table=table,
                          strategy=strategy, force=True)
            error = None
        except TdtpError as exc:
            error = str(exc).replace(table, "T")
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql(SELECT.format(table=table))]
    return error, rows, calls.batches


def _compare(tmp_path: Path, url: str, target: tuple[sa.Engine, str], module: Any,
             rows: list[tuple[str | None, ...]], **options: Any) -> str | None:
    """Both ways give the same table or the same refusal; returns the refusal."""
    packets = cell_packet(tmp_path / "in.tdtp.xml", rows,
                          part_size=options.pop("part_size", None))
    engine, table = target
    typed = _import(packets, url, engine, table, module, compiled=False, **options)
    lane = _import(packets, url, engine, table, module, compiled=True, **options)
    for p in packets:
        p.unlink()
    assert lane[:2] == typed[:2]
    assert lane[2] > 0, "the compiled lane was not used"
    return typed[0]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(lane_rows, min_size=1, max_size=10))
def test_the_lane_stores_what_the_typed_path_stores(
        compiled_module: Any, tmp_path: Path, postgres_url: str,
        target: tuple[sa.Engine, str], rows: list[tuple[str | None, ...]]) -> None:
    _compare(tmp_path, postgres_url, target, compiled_module, rows)


@pytest.mark.parametrize(("name", "cell"), ODD_PAIRS)
def test_each_odd_cell_is_stored_as_the_typed_path_stores_it(
        compiled_module: Any, tmp_path: Path, postgres_url: str,
        target: tuple[sa.Engine, str], name: str, cell: str | None) -> None:
    _compare(tmp_path, postgres_url, target, compiled_module,
             with_cell(clean_lane_rows(6), 4, name, cell))


def test_a_bad_cell_after_clean_batches_names_its_row(
        compiled_module: Any, tmp_path: Path, postgres_url: str,
        target: tuple[sa.Engine, str]) -> None:
    rows = with_cell(clean_lane_rows(10), 9, "b", "2")
    error = _compare(tmp_path, postgres_url, target, compiled_module, rows)
    assert error is not None and "row 10" in error and "'b'" in error


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_part_set_read_by_workers_goes_through_c(
        compiled_module: Any, tmp_path: Path, postgres_url: str,
        target: tuple[sa.Engine, str], monkeypatch: pytest.MonkeyPatch, workers: str) -> None:
    monkeypatch.setenv("TDTP_WORKERS", workers)
    rows = with_cell(clean_lane_rows(300), 250, "dt", "2024-13-01")
    error = _compare(tmp_path, postgres_url, target, compiled_module, rows, part_size=4096,
                     batch_size=50)
    assert error is not None and "part" in error and "'dt'" in error


@pytest.mark.parametrize("strategy", ["replace", "ignore", "fail", "copy"])
def test_every_strategy_takes_the_lane(compiled_module: Any, tmp_path: Path,
                                       postgres_url: str, target: tuple[sa.Engine, str],
                                       strategy: str) -> None:
    assert _compare(tmp_path, postgres_url, target, compiled_module, clean_lane_rows(9),
                    strategy=strategy) is None
