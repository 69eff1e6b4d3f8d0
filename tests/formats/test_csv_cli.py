"""CSV through the commands: ``--csv-*`` options on convert, import and export, the
schema sidecar written by default, and export choosing its format by extension."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tests.conftest import Result, Run

SCHEMA = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT"),
                 Field("price", "DECIMAL", precision=10, scale=2), Field("born", "DATE")])
ROWS = [(1, "Ann; Lee", Decimal("2.50"), date(2001, 2, 3)), (2, "Bob", None, None)]




@pytest.fixture
def packet(tmp_path: Path) -> Path:
    [path] = write_packets(TableStream.from_rows(SCHEMA, ROWS, table="people"),
                           tmp_path / "people.tdtp.xml")
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
        con.execute("INSERT INTO people VALUES (1, 'Ann', 31), (2, 'Bob', NULL)")
    return f"sqlite:///{path}"


def one_error_line(result: Result, code: int = 2) -> str:
    assert result.code == code, result
    assert "Traceback" not in result.err
    [line] = result.err.strip().splitlines()
    return line


def test_convert_to_csv_writes_a_sidecar_that_keeps_types(
    tdtp: Run, packet: Path, tmp_path: Path
) -> None:
    out, back = tmp_path / "pc.csv", tmp_path / "back.tdtp.xml"
    assert tdtp("convert", packet, "-o", out, "-q").code == 0
    assert (tmp_path / "pc.csv.schema.json").is_file()
    assert tdtp("convert", out, "-o", back, "-q").code == 0
    assert read_packets(back).rows() == ROWS


def test_csv_no_schema_writes_no_sidecar(tdtp: Run, packet: Path, tmp_path: Path) -> None:
    assert tdtp("convert", packet, "-o", tmp_path / "pc.csv", "--csv-no-schema").code == 0
    assert not (tmp_path / "pc.csv.schema.json").exists()


def test_csv_options_shape_the_written_file(tdtp: Run, packet: Path, tmp_path: Path) -> None:
    out = tmp_path / "pc.csv"
    assert tdtp("convert", packet, "-o", out, "--csv-delimiter", ";", "--csv-quoting", "all",
                "--csv-encoding", "cp1251", "--csv-no-header").code == 0
    assert out.read_bytes().decode("cp1251") == (
        '"1";"Ann; Lee";"2.50";"2001-02-03"\n"2";"Bob";"";""\n')


def test_csv_options_read_a_headerless_file_with_a_named_schema(
    tdtp: Run, packet: Path, tmp_path: Path
) -> None:
    out, types, back = tmp_path / "pc.csv", tmp_path / "types.json", tmp_path / "b.tdtp.xml"
    options = ("--csv-delimiter", "\\t", "--csv-no-header", "--csv-schema", types)
    assert tdtp("convert", packet, "-o", out, *options).code == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == "1\tAnn; Lee\t2.50\t2001-02-03"
    assert tdtp("convert", out, "-o", back, *options).code == 0
    assert read_packets(back).rows() == ROWS


def test_csv_without_sidecar_is_inferred_on_convert(tdtp: Run, tmp_path: Path) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.tdtp.xml"
    source.write_text("id,price,when\n1,2.50,2024-01-02T03:04:05Z\n", encoding="utf-8")
    assert tdtp("convert", source, "-o", out, "-q").code == 0
    assert [f.type for f in read_packets(out).schema] == ["INTEGER", "DECIMAL", "TIMESTAMP"]


def test_import_csv_without_sidecar_stores_empty_numbers_as_null(
    tdtp: Run, db: str, tmp_path: Path
) -> None:
    # The audit's case: `field 'age': wrong type for INTEGER column: ''`.
    fix = tmp_path / "fix.csv"
    fix.write_text("id,name,age\n3,Cy,\n4,Di,40\n", encoding="utf-8")
    assert tdtp("import", fix, db, "--table", "people", "-q").code == 0
    with sqlite3.connect(db.removeprefix("sqlite:///")) as con:
        assert con.execute("SELECT id, age FROM people WHERE id > 2 ORDER BY id").fetchall() \
            == [(3, None), (4, 40)]


def test_import_csv_column_with_no_values_stores_null(
    tdtp: Run, db: str, tmp_path: Path
) -> None:
    fix = tmp_path / "fix.csv"
    fix.write_text("id,name,age\n5,Ed,\n", encoding="utf-8")
    assert tdtp("import", fix, db, "--table", "people", "-q").code == 0
    with sqlite3.connect(db.removeprefix("sqlite:///")) as con:
        assert con.execute("SELECT age FROM people WHERE id = 5").fetchall() == [(None,)]


def test_import_takes_csv_options(tdtp: Run, db: str, tmp_path: Path) -> None:
    fix = tmp_path / "fix.csv"
    fix.write_bytes("6;Жанна;28\n".encode("cp1251"))
    schema = tmp_path / "s.json"
    schema.write_text('{"fields": [{"name": "id", "type": "INTEGER"}, {"name": "name"}, '
                      '{"name": "age", "type": "INTEGER"}]}', encoding="utf-8")
    assert tdtp("import", fix, db, "--table", "people", "--csv-delimiter", ";",
                "--csv-encoding", "cp1251", "--csv-no-header", "--csv-schema", schema,
                "-q").code == 0
    with sqlite3.connect(db.removeprefix("sqlite:///")) as con:
        assert con.execute("SELECT name, age FROM people WHERE id = 6").fetchall() == [
            ("Жанна", 28)]


def test_export_to_csv_writes_csv_and_sidecar(tdtp: Run, db: str, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    assert tdtp("export", db, "people", "-o", out, "--csv-delimiter", ";", "-q").code == 0
    assert out.read_text(encoding="utf-8") == "id;name;age\n1;Ann;31\n2;Bob;\n"
    assert (tmp_path / "x.csv.schema.json").is_file()


def test_export_to_xlsx_writes_a_workbook(tdtp: Run, db: str, tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    from tdtp_format_xlsx.workbook import XlsxFormat

    out = tmp_path / "x.xlsx"
    assert tdtp("export", db, "people", "-o", out, "--sheet", "People", "-q").code == 0
    assert XlsxFormat().read([out], sheet="People").rows() == [(1, "Ann", 31), (2, "Bob", None)]


def test_export_packet_option_on_csv_is_one_line(tdtp: Run, db: str, tmp_path: Path) -> None:
    line = one_error_line(tdtp("export", db, "people", "-o", tmp_path / "x.csv",
                               "--compress", "zstd"))
    assert "csv files do not support the option(s) 'compress'" in line
    assert list(tmp_path.glob("x.csv*")) == []


def test_export_sheet_without_workbook_is_one_line(tdtp: Run, db: str, tmp_path: Path) -> None:
    line = one_error_line(tdtp("export", db, "people", "-o", tmp_path / "x.csv",
                               "--sheet", "S"))
    assert "--sheet names a workbook sheet" in line


def test_csv_option_without_csv_file_is_one_line(tdtp: Run, packet: Path,
                                                 tmp_path: Path) -> None:
    line = one_error_line(tdtp("convert", packet, "-o", tmp_path / "o.tdtp.xml",
                               "--csv-delimiter", ";"))
    assert "--csv-delimiter: only for CSV files" in line


def test_bad_csv_option_value_is_one_line(tdtp: Run, packet: Path, tmp_path: Path) -> None:
    line = one_error_line(tdtp("convert", packet, "-o", tmp_path / "o.csv",
                               "--csv-quoting", "never"))
    assert "CSV quoting must be one of minimal, all, none" in line
    assert list(tmp_path.glob("o.csv*")) == []


def test_undecodable_csv_is_one_line(tdtp: Run, tmp_path: Path) -> None:
    source = tmp_path / "win.csv"
    source.write_bytes("id,name\n1,Жанна\n".encode("cp1251"))
    line = one_error_line(tdtp("convert", source, "-o", tmp_path / "w.tdtp.xml"), code=5)
    assert "win.csv: not utf-8 text" in line and "--csv-encoding" in line
    assert not (tmp_path / "w.tdtp.xml").exists()
