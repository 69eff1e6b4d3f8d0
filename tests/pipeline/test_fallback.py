"""An output's ``fallback`` (framework §8.7.5): written instead when the output fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tdtp_core import read_packets
from tdtp_core.errors import AdapterError
from tdtp_core.pipeline import PipelineConfigError, parse_pipeline, validate_pipeline
from tdtp_core.testing.brokers import free_port
from tests.pipeline.conftest import Run

#: A broker nobody listens on, tried once.
DOWN = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F?queue=q"

PIPELINE = """
name: failover
sources: [{{name: orders, url: "{db}", table: orders}}]
transform: {{sql: "SELECT id, customer, total FROM orders"}}
resilience: {{retry: {{max_attempts: 1}}}}
{processors}
outputs:
  - type: rabbitmq
    url: "{primary}"
    fallback:
      {fallback}
"""
TO_FILE = "{type: tdtp, destination: out/fallback.tdtp.xml}"


def _yaml(db: str, *, primary: str = DOWN, fallback: str = TO_FILE,
          processors: str = "") -> str:
    return PIPELINE.format(db=db, primary=primary, fallback=fallback, processors=processors)


def test_a_failed_output_is_written_to_its_fallback(run: Run, demo_db: str,
                                                    tmp_path: Path) -> None:
    summary = run(_yaml(demo_db))
    summary.raise_for_error()
    out = summary.outputs[0]
    assert out.status == "written to fallback"
    assert out.fallback == str(tmp_path / "out/fallback.tdtp.xml")
    assert out.primary_error is not None and "127.0.0.1" in out.primary_error
    assert out.rows == 200 and out.files == [out.fallback]
    assert len(read_packets(out.files[0]).rows()) == 200
    assert any(line.strip().startswith("instead of") for line in summary.lines())


def test_the_fallback_gets_the_processed_rows(run: Run, demo_db: str) -> None:
    masking = "processors: [{type: field_masker, params: {fields: {customer: stars}}}]"
    summary = run(_yaml(demo_db, processors=masking))
    summary.raise_for_error()
    fallback = summary.outputs[0].fallback
    assert fallback is not None
    customers = {row[1] for row in read_packets(fallback).rows()}
    assert customers and all(set(c) <= {"*", " "} for c in customers)


def test_a_working_output_leaves_its_fallback_alone(run: Run, demo_db: str, tmp_path: Path,
                                                    rabbit_queue: str) -> None:
    summary = run(_yaml(demo_db, primary=rabbit_queue))
    summary.raise_for_error()
    assert summary.outputs[0].status == "written" and summary.outputs[0].fallback is None
    assert not (tmp_path / "out").exists()


def test_a_failing_fallback_fails_the_run_and_names_it(run: Run, demo_db: str,
                                                       tmp_path: Path) -> None:
    missing = f"{{type: database, url: 'sqlite:///{tmp_path}/t.db', table: nope}}"
    summary = run(_yaml(demo_db, fallback=missing))
    assert summary.status == "failed"
    assert isinstance(summary.exception, AdapterError)
    assert "fallback" in str(summary.exception) and "nope" in str(summary.exception)
    assert summary.outputs[0].status == "failed"


def test_a_fallback_has_no_fallback(demo_db: str) -> None:
    nested = "{type: tdtp, destination: a.xml, fallback: {type: tdtp, destination: b.xml}}"
    with pytest.raises(PipelineConfigError) as info:
        parse_pipeline(_yaml(demo_db, fallback=nested), file="p.yaml")
    assert info.value.problems == [
        "p.yaml:11: outputs[0].fallback.fallback: nested fallback is not supported (only "
        "one level allowed)"]


def test_a_fallback_key_error_names_its_path(demo_db: str) -> None:
    with pytest.raises(PipelineConfigError) as info:
        parse_pipeline(_yaml(demo_db, fallback="{type: tdtp}"), file="p.yaml")
    assert info.value.problems == [
        "p.yaml:10: outputs[0].fallback: a tdtp output needs 'destination'"]


def test_validate_checks_the_fallback(demo_db: str, tmp_path: Path) -> None:
    pipeline = parse_pipeline(_yaml(demo_db), file=tmp_path / "p.yaml")
    checks = {c.where.split(" (")[0]: c for c in validate_pipeline(pipeline)}
    assert not checks["output 1"].ok  # the broker is down
    assert checks["fallback of output 1"].ok
