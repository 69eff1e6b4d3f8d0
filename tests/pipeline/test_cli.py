"""``tdtp pipeline run | validate | schema`` through the real command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tdtp_core.cli.main import main
from tests.pipeline.conftest import Write

PIPE = """
name: cli
variables:
  minimum: {{type: integer, default: 0}}
sources:
  - {{name: orders, url: "{db}", table: orders}}
transform:
  sql: SELECT id, customer, total FROM orders WHERE id > :minimum ORDER BY id
outputs:
  - {{type: tdtp, destination: out/o.tdtp.xml}}
"""


def tdtp(*args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    code = info.value.code
    return code if isinstance(code, int) else 0


def test_run_prints_the_summary_and_writes_json(write: Write, demo_db: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(PIPE.format(db=demo_db))
    assert tdtp("pipeline", "run", str(path), "--var", "minimum=190",
                "--summary-json", "s.json") == 0
    out = capsys.readouterr().out
    assert "pipeline cli 1.0: succeeded" in out and "transform result: 10 row(s)" in out
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["status"] == "succeeded" and summary["variables"] == {"minimum": "190"}
    assert summary["sources"][0]["rows"] == 200 and summary["outputs"][0]["rows"] == 10
    assert summary["outputs"][0]["files"] == [str(tmp_path / "out/o.tdtp.xml")]
    assert summary["outputs"][0]["hashes"][str(tmp_path / "out/o.tdtp.xml")].startswith(
        "xxh3:")


def test_run_json_and_dry_run(write: Write, demo_db: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write(PIPE.format(db=demo_db))
    assert tdtp("pipeline", "run", str(path), "--dry-run", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["dry_run"] and summary["outputs"][0]["status"] == "dry run"
    assert not (tmp_path / "out").exists()


def test_exit_code_follows_the_failure_kind(write: Write, demo_db: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(PIPE.format(db=demo_db).replace("table: orders", "table: nope"))
    assert tdtp("pipeline", "run", str(path), "--summary-json", "s.json") == 7  # adapter
    err = capsys.readouterr().err
    assert "tdtp: adapter error: source 'orders' (" in err and "p.yaml:5: sources[0])" in err
    assert json.loads((tmp_path / "s.json").read_text())["exit_code"] == 7

    path = write(PIPE.format(db=demo_db).replace("ORDER BY id", "ORDER BY nope"))
    assert tdtp("pipeline", "run", str(path)) == 6  # query (transform SQL)


def test_config_errors_are_listed_one_per_line(write: Write, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = write("name: x\nsources: []\ncolour: red\n")
    assert tdtp("pipeline", "run", str(path), "--summary-json", "s.json") == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"tdtp: config error: {path}:1: $: missing required key 'transform'",
        f"tdtp: config error: {path}:1: $: missing required key 'outputs'",
        f"tdtp: config error: {path}:2: sources: needs at least 1 item(s)",
        f"tdtp: config error: {path}:3: colour: unknown key 'colour' (known: description, "
        "error_handling, name, outputs, performance, processors, resilience, sources, "
        "transform, variables, version, workspace)"]
    assert json.loads((tmp_path / "s.json").read_text())["exit_code"] == 2
    assert tdtp("pipeline", "run", str(path), "--var", "nonsense") == 2
    assert "--var expects NAME=VALUE" in capsys.readouterr().err


def test_validate_checks_connections_schemas_and_sql(write: Write, demo_db: str,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    path = write(PIPE.format(db=demo_db))
    assert tdtp("pipeline", "validate", str(path)) == 0
    out = capsys.readouterr().out
    assert "ok    source 'orders'" in out and "7 field(s)" in out
    assert "result: id INTEGER, customer TEXT, total DECIMAL" in out
    assert "out/o.tdtp.xml: writable" in out

    path = write(PIPE.format(db=demo_db).replace("customer, total", "customer, totl"))
    assert tdtp("pipeline", "validate", str(path)) == 6
    assert "FAIL  transform (" in capsys.readouterr().out

    path = write(PIPE.format(db="sqlite:///nodir/none.db"))
    assert tdtp("pipeline", "validate", str(path)) == 7
    assert "FAIL  source 'orders'" in capsys.readouterr().out


@pytest.mark.rabbitmq
def test_validate_reaches_brokers_without_consuming(write: Write, rabbit_queue: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = write(f"""
        name: v
        sources: [{{name: q, broker: "{rabbit_queue}"}}]
        transform: {{sql: SELECT * FROM q}}
        outputs: [{{type: rabbitmq, url: "{rabbit_queue}"}}]
        """)
    assert tdtp("pipeline", "validate", str(path), "--json") == 0
    checks = json.loads(capsys.readouterr().out)
    assert all(c["ok"] for c in checks)
    assert any("no schema known for q" in c["what"] for c in checks)
    unreachable = write(path.read_text().replace("127.0.0.1:5672", "127.0.0.1:1"))
    assert tdtp("pipeline", "validate", str(unreachable)) == 8


def test_validate_processors_against_the_result(write: Write, demo_db: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(PIPE.format(db=demo_db) + "processors:\n  - {type: mask, params: "
                                           "{fields: {email: email}}}\n")
    assert tdtp("pipeline", "validate", str(path)) == 2
    assert "has no field 'email'" in capsys.readouterr().out


# ------------------------------------------------------------ processor options

PROCESSED = """
name: cli
sources:
  - {{name: orders, url: "{db}", table: orders}}
transform:
  sql: SELECT id, customer FROM orders WHERE id <= 3 ORDER BY id
{processors}
outputs:
  - {{type: tdtp, destination: out/o.tdtp.xml}}
  - {{type: csv, destination: out/o.csv}}
"""


def outputs(tmp_path: Path) -> tuple[list[tuple[object, ...]], list[list[str]]]:
    """The rows of the packet output and of the CSV output."""
    from tdtp_core import read_packets

    with open(tmp_path / "out/o.csv", newline="", encoding="utf-8") as fh:
        return read_packets(tmp_path / "out/o.tdtp.xml").rows(), list(csv.reader(fh))


def test_run_processor_options_reach_every_output(write: Write, demo_db: str,
                                                  tmp_path: Path) -> None:
    path = write(PROCESSED.format(db=demo_db, processors=""))
    assert tdtp("pipeline", "run", str(path), "-q", "--mask", "customer:fixed:X") == 0
    packet, table = outputs(tmp_path)
    assert packet == [(1, "X"), (2, "X"), (3, "X")]
    assert table == [["id", "customer"], ["1", "X"], ["2", "X"], ["3", "X"]]


def test_run_processor_options_follow_the_file_in_command_line_order(
        write: Write, demo_db: str, tmp_path: Path) -> None:
    own = 'processors:\n  - {type: mask, params: {fields: {customer: "fixed:Abc"}}}'
    path = write(PROCESSED.format(db=demo_db, processors=own))
    assert tdtp("pipeline", "run", str(path), "-q", "--mask", "customer:fixed:xyz",
                "--normalize", "customer:uppercase") == 0
    assert outputs(tmp_path)[0] == [(1, "XYZ"), (2, "XYZ"), (3, "XYZ")]


def test_run_processor_option_error_names_the_option(
        write: Write, demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(PROCESSED.format(db=demo_db, processors=""))
    assert tdtp("pipeline", "run", str(path), "-q", "--mask", "nope:stars") == 2
    assert capsys.readouterr().err.splitlines() == [
        "tdtp: config error: --mask nope:stars: processor 'mask': $.fields.nope: table "
        "'result' has no field 'nope' (fields: id, customer)"]
    assert not (tmp_path / "out").exists()
