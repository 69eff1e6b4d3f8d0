"""The runnable examples in ``examples/``, against the demo database."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tdtp_core import read_packets
from tdtp_core.pipeline import load_pipeline, run_pipeline
from tdtp_core.plugins import get_host
from tests.pipeline.conftest import EXAMPLES


@pytest.fixture
def examples(tmp_path: Path, demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/ (they write beside themselves), with the demo database."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("out", "*.db"))
    monkeypatch.setenv("TDTP_DEMO_DB", demo_db)
    return target


def test_join_and_mask(examples: Path) -> None:
    summary = run_pipeline(load_pipeline(examples / "join_and_mask.yaml"))
    summary.raise_for_error()
    stream = read_packets(examples / "out/customer_report.tdtp.xml")
    rows = stream.rows()
    assert len(rows) == 6 and sum(r[4] for r in rows) == 200
    assert all("***@" in r[1] and "X" in r[2] for r in rows)  # e-mail and phone masked
    assert stream.schema.field("total_spent").type == "DECIMAL"
    assert stream.schema.field("last_update").timezone == "UTC"
    sheet = get_host().format("xlsx").read([examples / "out/customer_report.xlsx"]).rows()
    assert [r[1] for r in sheet] == [r[1] for r in rows]


@pytest.mark.rabbitmq
def test_incremental_to_rabbitmq(examples: Path, rabbit_queue: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.pipeline.test_services import drain

    parts = urlsplit(rabbit_queue)
    monkeypatch.setenv("RABBITMQ_URL", rabbit_queue.split("?")[0])
    queue = parse_qs(parts.query)["queue"][0]
    since = "2026-01-05T00:00:00Z"
    pipeline = load_pipeline(examples / "incremental_to_rabbitmq.yaml",
                             variables={"since": since, "queue": queue})
    run_pipeline(pipeline).raise_for_error()
    stream = read_packets(*drain(rabbit_queue))
    rows = stream.rows()
    assert [(f.name, f.type) for f in stream.schema] == [
        ("id", "INTEGER"), ("customer", "TEXT"), ("total", "DECIMAL"), ("paid", "BOOLEAN"),
        ("updated_at", "TIMESTAMP")]
    cut = datetime(2026, 1, 5, tzinfo=UTC)
    assert rows and all(r[4] > cut for r in rows)
    assert all(isinstance(r[2], Decimal) and isinstance(r[3], bool) for r in rows)
    assert len(rows) == sum(1 for i in range(1, 201) if i * 37 > 4 * 24 * 60)


def test_xlsx_to_database(examples: Path, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'prices.db'}"
    pipeline = load_pipeline(examples / "xlsx_to_database.yaml", variables={"target": target})
    for _ in range(2):  # replace by key: running twice changes nothing
        run_pipeline(pipeline).raise_for_error()
    adapter = get_host().adapter_for_url(target)
    table = adapter.read("prices")
    rows = table.rows()
    adapter.close()
    assert [f.name for f in table.schema] == ["sku", "product", "unit_price", "currency",
                                              "in_stock", "valid_from", "note"]
    assert table.schema[0].key and len(rows) == 5
    assert rows[0][:5] == ("AB-1001", "Espresso beans 1kg", Decimal("24.90"), "EUR", True)
    assert rows[4][6] == "=not a formula"
