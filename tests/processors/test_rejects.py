"""Reject packets go back in: ``tdtp import`` takes a validator's reject packet (its
table's fields only), a fixed one comes back through CSV or XLSX with ``drop``, other
``error`` packets stay refused, and several packet sets never share one reject file."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.cli.main import main
from tdtp_core.packet.rejects import REJECT_FIELDS, table_rows
from tdtp_core.testing.brokers import rabbit_queue, rabbitmq_url  # noqa: F401 - fixtures

PEOPLE = [(1, "a@x.io", 30), (2, "bad", 40), (3, "c@x.io", 200), (4, "d@x.io", 5)]
GOOD = [(1, "a@x.io", 30), (4, "d@x.io", 5)]
FIXED = [(1, "a@x.io", 30), (2, "b@x.io", 40), (3, "c@x.io", 20), (4, "d@x.io", 5)]
RULES = """\
rules:
  email: email
  age: "range:0-150"
on_error: reject
reject: rj.tdtp.xml
"""
DROP_REJECT_FIELDS = 'drop:{"fields": ["reject_*"]}'


def tdtp(*args: str) -> int:
    """``tdtp ARGS``; its exit code."""
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def db_url(folder: Path, name: str) -> str:
    """An absolute URL: engines are cached by URL for the whole process."""
    return f"sqlite:///{folder / name}.db"


def people(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT id, email, age FROM people ORDER BY id").fetchall()


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path, so the rule file's relative reject path lands there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")


@pytest.fixture
def rejected(tmp_path: Path) -> Path:
    """Export → import with --validate: two rows land in dst.db, two in rj.tdtp.xml."""
    with sqlite3.connect(tmp_path / "src.db") as con:
        con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, age INTEGER)")
        con.executemany("INSERT INTO people VALUES (?, ?, ?)", PEOPLE)
    assert tdtp("export", db_url(tmp_path, "src"), "people", "-o", "p.tdtp.xml", "-q") == 0
    assert tdtp("import", "p.tdtp.xml", db_url(tmp_path, "dst"), "--create", "-q",
                "--validate", "rules.yaml") == 0
    assert people(tmp_path / "dst.db") == GOOD
    return tmp_path / "rj.tdtp.xml"


# ------------------------------------------------------------------------- core


def reject_packet(path: Path, packet_type: str = "error") -> Path:
    schema = Schema([*REJECT_FIELDS, Field("id", "INTEGER", key=True), Field("email", "TEXT")])
    rows = [(2, "email", "email", "bad", "row 2: invalid email", 7, "bad")]
    write_packets(TableStream.from_rows(schema, rows, table="people"), path,
                  packet_type=packet_type)
    return path


def test_table_rows_of_a_reject_packet_are_the_table_fields_with_keys(tmp_path: Path) -> None:
    rows = table_rows(read_packets(reject_packet(tmp_path / "r.tdtp.xml")))
    assert (rows.table, rows.schema.names) == ("people", ["id", "email"])
    assert rows.schema.field("id").key
    assert rows.rows() == [(7, "bad")]


def test_a_reference_packet_with_reject_field_names_is_left_alone(tmp_path: Path) -> None:
    stream = read_packets(reject_packet(tmp_path / "r.tdtp.xml", packet_type="reference"))
    assert table_rows(stream) is stream


# ------------------------------------------------------------------- end to end


def test_reject_packet_fixed_with_the_python_api_imports(rejected: Path, tmp_path: Path
                                                         ) -> None:
    stream = read_packets(rejected)
    rows = [list(row) for row in stream]
    email, age = stream.schema.index("email"), stream.schema.index("age")
    rows[0][email], rows[1][age] = "b@x.io", 20
    write_packets(TableStream.from_rows(stream.schema, rows, table=stream.table),
                  tmp_path / "fixed.tdtp.xml", packet_type="error")
    assert tdtp("import", "fixed.tdtp.xml", db_url(tmp_path, "dst"), "-q",
                "--validate", "rules.yaml") == 0
    assert people(tmp_path / "dst.db") == FIXED


def test_reject_packet_fixed_in_csv_imports_with_drop(rejected: Path, tmp_path: Path) -> None:
    assert tdtp("convert", str(rejected), "-o", "rj.csv", "-q") == 0
    with open(tmp_path / "rj.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    email, age = table[0].index("email"), table[0].index("age")
    table[1][email], table[2][age] = "b@x.io", "20"
    with open(tmp_path / "rj.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(table)
    assert tdtp("import", "rj.csv", db_url(tmp_path, "dst"), "--table", "people", "-q",
                "--process", DROP_REJECT_FIELDS, "--validate", "rules.yaml") == 0
    assert people(tmp_path / "dst.db") == FIXED


def test_reject_packet_fixed_in_xlsx_imports_with_drop(rejected: Path, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    assert tdtp("convert", str(rejected), "-o", "rj.xlsx", "-q") == 0
    book = openpyxl.load_workbook(tmp_path / "rj.xlsx")
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    sheet.cell(2, header.index("email") + 1, "b@x.io")
    sheet.cell(3, header.index("age") + 1, 20)
    book.save(tmp_path / "rj.xlsx")
    assert tdtp("import", "rj.xlsx", db_url(tmp_path, "dst"), "--table", "people", "-q",
                "--process", DROP_REJECT_FIELDS, "--validate", "rules.yaml") == 0
    assert people(tmp_path / "dst.db") == FIXED


def test_listen_imports_a_reject_packet_without_the_reject_fields(
        rejected: Path, tmp_path: Path, rabbit_queue: str) -> None:  # noqa: F811
    assert tdtp("send", str(rejected), rabbit_queue, "-q") == 0
    target = tmp_path / "heard.db"
    assert tdtp("listen", rabbit_queue, db_url(tmp_path, "heard"), "--create", "-q",
                "--max-messages", "1", "--idle-timeout", "5") == 0
    with sqlite3.connect(target) as con:
        assert [c[1] for c in con.execute("PRAGMA table_info(people)")] == ["id", "email",
                                                                               "age"]
    assert people(target) == [(2, "bad", 40), (3, "c@x.io", 200)]


def test_error_packet_that_is_not_a_reject_packet_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = Schema([Field("id", "INTEGER", key=True), Field("email", "TEXT")])
    write_packets(TableStream.from_rows(schema, [(1, "a@x.io")], table="people"),
                  tmp_path / "err.tdtp.xml", packet_type="error")
    assert tdtp("import", "err.tdtp.xml", db_url(tmp_path, "e"), "--create") == 7
    assert capsys.readouterr().err.splitlines() == [
        "tdtp: adapter error: can only import reference, delta, response packets and "
        "reject packets, got: error (not a reject packet: its fields do not start with "
        "reject_row, reject_field, reject_rule, reject_value, reject_message)"]
    with sqlite3.connect(tmp_path / "e.db") as con:
        assert con.execute("SELECT name FROM sqlite_master WHERE name = 'people'"
                           ).fetchall() == []


def test_each_packet_set_keeps_its_own_reject_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = Schema([Field("id", "INTEGER", key=True), Field("email", "TEXT"),
                     Field("age", "INTEGER")])
    for name, rows in (("n.tdtp.xml", PEOPLE[:2]), ("n_b.tdtp.xml", PEOPLE[2:])):
        write_packets(TableStream.from_rows(schema, rows, table="people"), tmp_path / name)
    assert tdtp("import", "n.tdtp.xml", "n_b.tdtp.xml", db_url(tmp_path, "g"), "--create", "-q",
                "--validate", "rules.yaml") == 0
    assert [r[5:] for r in read_packets(tmp_path / "rj.tdtp.xml")] == [(2, "bad", 40)]
    assert [r[5:] for r in read_packets(tmp_path / "rj_2.tdtp.xml")] == [(3, "c@x.io", 200)]
    err = capsys.readouterr().err
    assert "1 rejected to rj.tdtp.xml" in err and "1 rejected to rj_2.tdtp.xml" in err
