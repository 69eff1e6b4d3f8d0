"""Running pipelines on SQLite and files: types, policies, atomic outputs, safety."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.errors import AdapterError, PacketError, QueryError, SchemaError
from tdtp_core.plugins import get_host
from tests.pipeline.conftest import Run, Write

TYPES = Schema([
    Field("id", "INTEGER", key=True),
    Field("amount", "DECIMAL", precision=20, scale=4),
    Field("paid", "BOOLEAN"),
    Field("day", "DATE"),
    Field("at", "TIMESTAMP", timezone="UTC"),
    Field("clock", "TIMESTAMP", subtype="time"),
    Field("ratio", "REAL"),
    Field("name", "TEXT"),
    Field("data", "BLOB"),
])
ROWS = [
    (1, Decimal("1500.5000"), True, date(1990, 5, 15),
     datetime(2026, 6, 16, 11, 38, 11, 528770, tzinfo=UTC), time(8, 30, 0, 250000),
     1000000.0, "", b"\x00\xff"),
    (2, Decimal("1234567890123456.7891"), False, date(2026, 1, 1),
     datetime(2026, 6, 16, 11, 38, 11, tzinfo=UTC), None, 0.1 + 0.2, None, None),
    (3, None, None, None, None, time(23, 59, 59), 1e-05, "O'Brien | \\ \n", b""),
    (4, Decimal("-0.0001"), True, date(2000, 2, 29), datetime(1970, 1, 1, tzinfo=UTC),
     time(0, 0), 5e-324, "Ωmega", None),
]


@pytest.fixture
def typed_db(tmp_path: Path) -> str:
    """A packet file of every type: exactly the values (SQLite itself would round a
    16-digit DECIMAL in a NUMERIC column)."""
    path = tmp_path / "typed.tdtp.xml"
    write_packets(TableStream.from_rows(TYPES, ROWS, table="typed"), path)
    return str(path)


def test_every_type_round_trips_through_the_workspace(run: Run, typed_db: str,
                                                      tmp_path: Path) -> None:
    summary = run(f"""
        name: types
        sources:
          - name: typed
            file: {typed_db}
        transform:
          sql: SELECT * FROM typed ORDER BY id
        outputs:
          - type: tdtp
            destination: out/typed.tdtp.xml
        """)
    summary.raise_for_error()
    stream = read_packets(tmp_path / "out/typed.tdtp.xml")
    assert [(f.name, f.type, f.precision, f.scale, f.timezone, f.subtype)
            for f in stream.schema] == [(f.name, f.type, f.precision, f.scale, f.timezone,
                                         f.subtype) for f in TYPES]
    got = stream.rows()
    assert got == ROWS
    assert got[0][7] == "" and got[1][7] is None  # an empty string is not NULL
    assert math.isclose(got[1][6], 0.30000000000000004, rel_tol=0) and got[3][6] == 5e-324


def test_float_text_is_full_precision_without_exponent(run: Run, typed_db: str,
                                                       tmp_path: Path) -> None:
    summary = run(f"""
        name: floats
        sources:
          - {{name: typed, file: "{typed_db}"}}
        transform:
          sql: SELECT id, ratio, ratio * 1 AS computed FROM typed ORDER BY id
        outputs:
          - {{type: csv, destination: out/f.csv}}
        """)
    summary.raise_for_error()
    lines = (tmp_path / "out/f.csv").read_text().splitlines()
    assert lines[1] == "1,1000000,1000000"
    assert lines[2] == "2,0.30000000000000004,0.30000000000000004"
    assert lines[3] == "3,0.00001,0.00001"  # not the reference's %g "1e-05"


def test_joins_steps_keys_and_computed_types(run: Run, demo_db: str, tmp_path: Path,
                                             write: Write) -> None:
    (tmp_path / "vip.csv").write_text("customer,level\nAda,1\nGrace,2\n", encoding="utf-8")
    summary = run(f"""
        name: steps
        variables:
          since: {{type: timestamp, default: "2026-01-02T00:00:00Z"}}
        sources:
          - {{name: orders, url: "{demo_db}", table: orders}}
          - {{name: vip, file: vip.csv}}
        transform:
          steps:
            - result_table: recent
              sql: SELECT id, customer, total, paid, updated_at FROM orders
                   WHERE updated_at > :since
            - result_table: report
              key: [customer]
              types: {{spent: "DECIMAL(12,2)"}}
              sql: |
                SELECT r.customer AS customer, v.level, count(*) AS n, sum(r.total) AS spent,
                       max(r.paid) AS any_paid
                FROM recent r JOIN vip v ON v.customer = r.customer
                GROUP BY r.customer, v.level ORDER BY r.customer
        outputs:
          - {{type: tdtp, destination: out/report.tdtp.xml}}
          - {{type: csv, destination: out/recent.csv, result_table: recent}}
        """)
    summary.raise_for_error()
    report = read_packets(tmp_path / "out/report.tdtp.xml")
    assert [(f.name, f.type, f.key) for f in report.schema] == [
        ("customer", "TEXT", True), ("level", "INTEGER", False), ("n", "INTEGER", False),
        ("spent", "DECIMAL", False), ("any_paid", "INTEGER", False)]
    rows = report.rows()
    assert [r[0] for r in rows] == ["Ada", "Grace"]
    assert all(isinstance(r[3], Decimal) and r[3] == r[3].quantize(Decimal("0.01"))
               for r in rows)
    recent = (tmp_path / "out/recent.csv").read_text().splitlines()
    assert recent[0] == "id,customer,total,paid,updated_at"
    assert all(line.split(",")[4] > "2026-01-02T00:00:00Z" for line in recent[1:])
    assert [t.result_table for t in summary.transform] == ["recent", "report"]
    assert summary.sources[0].rows == 200 and summary.sources[1].rows == 2


def test_variables_are_bound_never_spliced(run: Run, demo_db: str, tmp_path: Path) -> None:
    evil = "Ada' OR '1'='1"
    summary = run(f"""
        name: bound
        variables:
          who: {{type: string}}
        sources:
          - name: orders
            url: "{demo_db}"
            query: SELECT id, customer FROM orders WHERE customer = :who OR customer = 'Ada'
        transform:
          sql: SELECT * FROM orders WHERE customer = :who
        outputs:
          - {{type: csv, destination: out/x.csv}}
        """, variables={"who": evil})
    summary.raise_for_error()
    assert summary.sources[0].rows > 0  # the literal 'Ada' half matched
    assert summary.transform[0].rows == 0  # the evil value matched nothing
    assert summary.variables == {"who": evil}


@pytest.mark.parametrize(("sql", "message"), [
    ("DELETE FROM a", "syntax error"),
    ("SELECT * FROM a; DROP TABLE a", "one statement"),
    ("SELECT load_extension('x')", "not authorized"),
    ("WITH x AS (SELECT 1) SELECT * FROM pragma_table_info('a')", "not authorized"),
])
def test_transform_sql_may_only_read(run: Run, tmp_path: Path, sql: str, message: str) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    summary = run(f"""
        name: safe
        sources: [{{name: a, file: a.csv}}]
        transform: {{sql: "{sql}"}}
        outputs: [{{type: csv, destination: out.csv}}]
        """)
    assert summary.status == "failed" and isinstance(summary.exception, QueryError)
    assert message in (summary.error or "")
    assert summary.error is not None and "p.yaml:3: transform" in summary.error
    assert not (tmp_path / "out.csv").exists()


def test_transform_timeout(run: Run, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    summary = run("""
        name: slow
        sources: [{name: a, file: a.csv}]
        transform:
          timeout: 0.3
          sql: WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n
        outputs: [{type: csv, destination: out.csv}]
        """)
    assert isinstance(summary.exception, QueryError)
    assert "ran past its timeout" in (summary.error or "")


SKIP = """
name: policies
sources:
  - {name: good, file: good.csv}
  - {name: missing, file: missing.tdtp.xml, on_error: POLICY}
transform:
  sql: SELECT * FROM good
outputs:
  - {type: csv, destination: out/good.csv}
  - {type: tdtp, destination: out/good.tdtp.xml}
"""


def test_a_skipped_source_is_reported_and_the_rest_completes(run: Run, tmp_path: Path) -> None:
    (tmp_path / "good.csv").write_text("x\na\n", encoding="utf-8")
    summary = run(SKIP.replace("POLICY", "skip"))
    summary.raise_for_error()
    assert [(s.name, s.status) for s in summary.sources] == [("good", "loaded"),
                                                             ("missing", "skipped")]
    assert "no such file" in (summary.sources[1].error or "")
    assert (tmp_path / "out/good.csv").read_text() == "x\na\n"
    assert any("skipped" in line for line in summary.lines())


def test_a_failing_source_under_fail_writes_nothing(run: Run, tmp_path: Path) -> None:
    (tmp_path / "good.csv").write_text("x\na\n", encoding="utf-8")
    summary = run(SKIP.replace("POLICY", "fail"))
    assert summary.status == "failed" and isinstance(summary.exception, PacketError)
    assert summary.exit_code == PacketError.exit_code
    assert "source 'missing' (" in (summary.error or "")
    assert "p.yaml:4: sources[1])" in (summary.error or "")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert all(o.status == "not run" for o in summary.outputs)


def test_reading_a_skipped_source_says_it_was_skipped(run: Run, tmp_path: Path) -> None:
    (tmp_path / "good.csv").write_text("x\na\n", encoding="utf-8")
    summary = run(SKIP.replace("POLICY", "skip").replace("FROM good", "FROM missing"))
    assert isinstance(summary.exception, QueryError)
    assert "no such table: missing (source 'missing' was skipped:" in (summary.error or "")


def test_a_failed_output_leaves_no_file_behind(run: Run, tmp_path: Path, demo_db: str) -> None:
    summary = run(f"""
        name: atomic
        sources: [{{name: orders, url: "{demo_db}", table: orders}}]
        transform: {{sql: SELECT * FROM orders}}
        outputs:
          - {{type: tdtp, destination: out/o.tdtp.xml, part_size: 20KB}}
          - {{type: csv, destination: out/o.csv}}
          - {{type: database, url: "{demo_db}", table: no_such_table}}
        """)
    assert isinstance(summary.exception, AdapterError)
    assert summary.exit_code == AdapterError.exit_code
    assert (summary.error or "").startswith("output 3 (")
    assert "p.yaml:7: outputs[2]): table 'no_such_table' not found" in (summary.error or "")
    assert [o.status for o in summary.outputs] == ["rolled back", "rolled back", "failed"]
    assert list((tmp_path / "out").iterdir()) == []  # staged parts were removed


def test_packet_parts_are_written_as_a_set(run: Run, tmp_path: Path, demo_db: str) -> None:
    summary = run(f"""
        name: parts
        sources: [{{name: orders, url: "{demo_db}", table: orders}}]
        transform: {{sql: SELECT * FROM orders}}
        outputs:
          - {{type: tdtp, destination: out/o.tdtp.xml, part_size: 8KB, compress: true,
              integrity: true}}
        """)
    summary.raise_for_error()
    files = summary.outputs[0].files
    assert len(files) > 1 and all("_part_" in f for f in files)
    assert set(summary.outputs[0].hashes) == set(files)
    assert all(h.startswith("xxh3:") and " packet:" in h
               for h in summary.outputs[0].hashes.values())
    assert len(read_packets(files[0]).rows()) == 200


def test_summary_lists_parts_in_part_order(run: Run, demo_db: str) -> None:
    summary = run(f"""
        name: parts
        sources: [{{name: orders, url: "{demo_db}", table: orders}}]
        transform: {{sql: SELECT * FROM orders}}
        outputs: [{{type: tdtp, destination: out/o.tdtp.xml, part_size: 2KB}}]
        """)
    summary.raise_for_error()
    files = summary.outputs[0].files
    assert len(files) >= 10
    assert files == [f"{Path(files[0]).parent}/o.tdtp_part_{k}_of_{len(files)}.xml"
                     for k in range(1, len(files) + 1)]


def test_output_packets_carry_the_pipeline_context(run: Run, demo_db: str) -> None:
    summary = run(f"""
        name: ctx
        version: "2.1"
        variables:
          minimum: {{type: integer, default: 100}}
        sources: [{{name: orders, url: "{demo_db}", table: orders}}]
        transform: {{sql: SELECT id FROM orders WHERE total > :minimum}}
        outputs:
          - {{type: tdtp, destination: out/ctx.tdtp.xml}}
        """)
    summary.raise_for_error()
    context = read_packets(*summary.outputs[0].files).metadata["pipeline"]
    assert (context.name, context.version, context.variables) == \
        ("ctx", "2.1", (("minimum", "100"),))


def test_dry_run_writes_nothing(run: Run, tmp_path: Path, demo_db: str) -> None:
    summary = run(f"""
        name: dry
        sources: [{{name: orders, url: "{demo_db}", table: orders}}]
        transform: {{sql: SELECT * FROM orders WHERE paid}}
        outputs:
          - {{type: csv, destination: out/o.csv}}
          - {{type: database, url: "sqlite:///target.db", table: t, create: true}}
        """, dry_run=True)
    summary.raise_for_error()
    assert summary.dry_run and [o.status for o in summary.outputs] == ["dry run", "dry run"]
    assert summary.outputs[0].rows == summary.transform[0].rows > 0
    assert not (tmp_path / "out").exists() and not (tmp_path / "target.db").exists()


def test_processors_run_once_for_every_output(run: Run, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("id,email\n1,john.doe@example.com\n2,\n",
                                         encoding="utf-8")
    summary = run("""
        name: masked
        sources: [{name: people, file: people.csv}]
        transform: {sql: SELECT * FROM people}
        processors:
          - {type: field_masker, params: {fields: {email: partial}}}
        outputs:
          - {type: csv, destination: out/p.csv}
          - {type: tdtp, destination: out/p.tdtp.xml, compress: true}
          - {type: xlsx, destination: out/p.xlsx}
          - {type: database, url: "sqlite:///t.db", table: people, create: true}
        """)
    summary.raise_for_error()
    assert summary.processors == ["mask"] and summary.processed_rows == {"result": 2}
    masked = "j***@example.com"  # masked once: twice would give j***m
    assert (tmp_path / "out/p.csv").read_text().splitlines()[1] == f"1,{masked}"
    assert read_packets(tmp_path / "out/p.tdtp.xml").rows()[0][1] == masked
    assert get_host().format("xlsx").read([tmp_path / "out/p.xlsx"]).rows()[0][1] == masked
    adapter = get_host().adapter_for_url("sqlite:///t.db")
    assert adapter.read("people").rows()[0][1] == masked
    adapter.close()


def test_rows_counted_are_rows_written_after_filtering(run: Run, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("id,email\n1,a@example.com\n2,not-an-email\n",
                                         encoding="utf-8")
    summary = run("""
        name: filtered
        sources: [{name: people, file: people.csv}]
        transform: {sql: SELECT * FROM people}
        processors:
          - {type: validate, params: {rules: {email: email}, on_error: drop}}
        outputs: [{type: csv, destination: out.csv}]
        """)
    summary.raise_for_error()
    assert summary.transform[0].rows == 2
    assert summary.processed_rows == {"result": 1} and summary.outputs[0].rows == 1


def test_a_failing_validation_stops_before_any_output(run: Run, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("id,email\n1,a@example.com\n2,bad\n",
                                         encoding="utf-8")
    summary = run("""
        name: strict
        sources: [{name: people, file: people.csv}]
        transform: {sql: SELECT * FROM people}
        processors:
          - {type: validate, params: {rules: {email: email}}}
        outputs: [{type: csv, destination: out.csv}]
        """)
    assert isinstance(summary.exception, SchemaError)
    assert not (tmp_path / "out.csv").exists()


def test_a_processor_on_a_missing_field_names_its_line(run: Run, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    summary = run("""
        name: p
        sources: [{name: a, file: a.csv}]
        transform: {sql: SELECT * FROM a}
        processors:
          - {type: mask, params: {fields: {email: partial}}}
        outputs: [{type: csv, destination: out.csv}]
        """)
    assert summary.exit_code == 2
    assert "p.yaml:5: processors[0]" in (summary.error or "")
    assert "has no field 'email'" in (summary.error or "")


def test_file_workspace_is_recreated_and_removed(run: Run, tmp_path: Path, demo_db: str
                                                 ) -> None:
    text = f"""
        name: big
        workspace: {{path: work.db}}
        sources: [{{name: orders, url: "{demo_db}", table: orders}}]
        transform: {{sql: SELECT count(*) AS n FROM orders}}
        outputs: [{{type: csv, destination: out.csv}}]
        """
    run(text).raise_for_error()
    run(text).raise_for_error()
    assert not (tmp_path / "work.db").exists()
    (tmp_path / "work.db").write_text("precious")
    summary = run(text)
    assert "is not an SQLite database" in (summary.error or "")
    assert (tmp_path / "work.db").read_text() == "precious"


def test_source_timeout_fails_the_source(run: Run, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("x\n" + "\n".join(str(i) for i in range(200_000)) + "\n")
    summary = run("""
        name: t
        sources:
          - {name: big, file: big.csv, timeout: 0.001, on_error: skip}
          - {name: small, file: small.csv}
        transform: {sql: SELECT * FROM small}
        outputs: [{type: csv, destination: out.csv}]
        """.replace("small.csv", str(big)))
    summary.raise_for_error()
    assert summary.sources[0].status == "skipped"
    assert "took longer than its timeout" in (summary.sources[0].error or "")


class Recorder:
    """A Progress that keeps what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []

    def start(self, name: str) -> None:
        self.events.append(("start", name, 0))

    def advance(self, name: str, rows: int) -> None:
        self.events.append(("advance", name, rows))

    def finish(self, name: str, status: str) -> None:
        self.events.append((status, name, 0))


def test_sources_run_in_bounded_parallel_with_progress(write: Write, tmp_path: Path) -> None:
    from tdtp_core.pipeline import load_pipeline, run_pipeline

    for i in range(5):
        (tmp_path / f"s{i}.csv").write_text("x\n" + "\n".join(map(str, range(i * 10))) + "\n")
    sources = "\n".join(f"  - {{name: s{i}, file: s{i}.csv}}" for i in range(5))
    path = write(f"""
name: par
performance: {{parallel_sources: 2, batch_size: 7}}
sources:
{sources}
transform:
  sql: SELECT count(*) AS n FROM (SELECT x FROM s1 UNION ALL SELECT x FROM s4)
outputs: [{{type: csv, destination: o.csv}}]
""")
    recorder = Recorder()
    summary = run_pipeline(load_pipeline(path), progress=recorder)
    summary.raise_for_error()
    assert [s.rows for s in summary.sources] == [0, 10, 20, 30, 40]
    assert (tmp_path / "o.csv").read_text() == "n\n50\n"
    for i in range(5):
        name = f"s{i}"
        assert ("start", name, 0) in recorder.events and ("loaded", name, 0) in recorder.events
        assert sum(r for kind, n, r in recorder.events if kind == "advance" and n == name) \
            == i * 10
