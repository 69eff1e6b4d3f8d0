"""The reference's pipeline regressions (framework §12, §8) as behaviour we keep."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.errors import PacketError
from tdtp_core.plugins import get_host
from tests.pipeline.conftest import Run

ONE = """
name: r
sources:
  - {{name: src, {source}}}
transform: {{sql: SELECT * FROM src}}
outputs:
  - {{type: {kind}, destination: {dest}}}
"""


def test_12_1_output_type_in_any_case_writes(run: Run, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    run(ONE.format(source="file: a.csv", kind="TDTP", dest="o.tdtp.xml")).raise_for_error()
    assert read_packets(tmp_path / "o.tdtp.xml").rows() == [(1,)]
    run(ONE.format(source="file: a.csv", kind="XLSX", dest="o.xlsx")).raise_for_error()
    assert (tmp_path / "o.xlsx").exists()  # §8.2.6: xlsx is a supported output


def _parts(tmp_path: Path, name: str, rows: int) -> list[Path]:
    schema = Schema([Field("id", "INTEGER", key=True), Field("pad", "TEXT")])
    stream = TableStream.from_rows(schema, [(i, "x" * 200) for i in range(rows)], table="t")
    return write_packets(stream, tmp_path / name, part_size=4096)


def test_12_3_a_multi_part_source_is_checked_as_a_set(run: Run, tmp_path: Path) -> None:
    parts = _parts(tmp_path, "set.tdtp.xml", 60)
    assert len(parts) >= 3
    text = ONE.format(source=f"file: {parts[0].name}", kind="csv", dest="o.csv")
    summary = run(text)
    summary.raise_for_error()
    assert summary.sources[0].rows == 60  # every part, from the name of the first
    (tmp_path / "o.csv").unlink()
    other = tmp_path / "other"
    other.mkdir()
    foreign = _parts(other, "set.tdtp.xml", 60)
    parts[1].write_bytes(foreign[1].read_bytes())  # part 2 of another export
    summary = run(text)
    assert isinstance(summary.exception, PacketError)
    assert "multi-part" in (summary.error or "") or "batch" in (summary.error or "")
    parts[1].unlink()
    summary = run(text)
    assert isinstance(summary.exception, PacketError)
    assert "part_2_of_" in (summary.error or "")
    assert not (tmp_path / "o.csv").exists()


def test_12_4_a_date_column_passes_through_as_a_date(run: Run, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    adapter = get_host().adapter_for_url(url)
    schema = Schema([Field("d", "DATE"), Field("ts", "TIMESTAMP", timezone="UTC")])
    adapter.write(TableStream.from_rows(
        schema, [(date(1990, 5, 15), datetime(2026, 6, 16, 11, 38, 11, tzinfo=UTC))],
        table="t"), create=True)
    adapter.close()
    run(ONE.format(source=f"url: '{url}', table: t", kind="tdtp", dest="o.xml")
        ).raise_for_error()
    text = (tmp_path / "o.xml").read_text()
    assert "<R>1990-05-15|2026-06-16T11:38:11Z</R>" in text
    assert [f.type for f in read_packets(tmp_path / "o.xml").schema] == ["DATE", "TIMESTAMP"]


def test_12_5_empty_strings_reach_not_null_columns(run: Run, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 't.db'}"
    adapter = get_host().adapter_for_url(target)
    with adapter.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    adapter.close()
    (tmp_path / "a.csv").write_text('id,name\n1,""\n2,x\n', encoding="utf-8")
    run(f"""
        name: empty
        sources: [{{name: a, file: a.csv}}]
        transform: {{sql: "SELECT CAST(id AS INTEGER) AS id, name FROM a"}}
        outputs: [{{type: database, url: "{target}", table: t}}]
        """).raise_for_error()
    adapter = get_host().adapter_for_url(target)
    assert sorted(adapter.read("t").rows()) == [(1, ""), (2, "x")]
    adapter.close()


def test_12_10_sub_second_timestamps_survive(run: Run, tmp_path: Path) -> None:
    schema = Schema([Field("ts", "TIMESTAMP", timezone="UTC")])
    value = datetime(2026, 6, 16, 11, 38, 11, 528770, tzinfo=UTC)
    write_packets(TableStream.from_rows(schema, [(value,)], table="t"), tmp_path / "in.xml")
    run(ONE.format(source="file: in.xml", kind="tdtp", dest="o.xml")).raise_for_error()
    assert "2026-06-16T11:38:11.52877Z" in (tmp_path / "o.xml").read_text()


def test_12_17_rows_loaded_are_the_source_rows(run: Run, tmp_path: Path,
                                              demo_db: str) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n2\n3\n", encoding="utf-8")
    summary = run(f"""
        name: counts
        sources:
          - {{name: a, file: a.csv}}
          - {{name: orders, url: "{demo_db}", table: orders}}
        transform: {{sql: SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM orders) AS n}}
        outputs: [{{type: csv, destination: o.csv}}]
        """)
    summary.raise_for_error()
    assert [s.rows for s in summary.sources] == [3, 200]
    assert (tmp_path / "o.csv").read_text().splitlines()[1] == "203"


def test_8_6_continue_skips_the_failed_source(run: Run, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    summary = run("""
        name: cont
        error_handling: {on_source_error: continue}
        sources:
          - {name: a, file: a.csv}
          - {name: b, file: nope.csv}
        transform: {sql: SELECT * FROM a}
        outputs: [{type: csv, destination: o.csv}]
        """)
    summary.raise_for_error()
    assert [s.status for s in summary.sources] == ["loaded", "skipped"]
