"""XLSX as a source and a target in the same commands as packets and databases."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.cli.main import main

SCHEMA = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT"),
                 Field("price", "DECIMAL", precision=10, scale=2)])
ROWS = [(1, "tea", Decimal("2.50")), (2, "cake", Decimal("4.75"))]


def run(*args: str) -> None:
    try:
        main(list(args))
    except SystemExit as exc:
        assert not exc.code, f"tdtp {' '.join(args)} exited {exc.code}"


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    packet = tmp_path / "menu.tdtp.xml"
    write_packets(TableStream.from_rows(SCHEMA, ROWS, table="menu"), packet)
    book = tmp_path / "menu.xlsx"
    run("convert", str(packet), "-o", str(book), "--sheet", "Menu", "--quiet")
    return book


def test_convert_writes_the_named_sheet(workbook: Path) -> None:
    from openpyxl import load_workbook

    assert "Menu" in load_workbook(workbook, read_only=True).sheetnames


def test_convert_reads_a_sheet_back_into_a_packet(workbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "back.tdtp.xml"
    run("convert", str(workbook), "--sheet", "Menu", "--table", "menu", "-o", str(out),
        "--quiet")
    stream = read_packets(out)
    assert stream.table == "menu"
    assert stream.rows() == ROWS


def test_import_reads_a_workbook_into_a_database(workbook: Path, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    run("import", str(workbook), f"sqlite:///{db}", "--sheet", "Menu", "--table", "menu",
        "--create", "--quiet")
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT id, name FROM menu ORDER BY id").fetchall() == [
            (1, "tea"), (2, "cake")]


# ------------------------------------------------------------------ several sheets

PEOPLE = Schema([Field("id", "INTEGER", key=True), Field("who", "TEXT")])


@pytest.fixture
def two_packets(tmp_path: Path) -> list[Path]:
    menu, people = tmp_path / "menu.tdtp.xml", tmp_path / "people.tdtp.xml"
    write_packets(TableStream.from_rows(SCHEMA, ROWS, table="menu"), menu)
    write_packets(TableStream.from_rows(PEOPLE, [(7, "Ann")], table="people"), people)
    return [menu, people]


@pytest.fixture
def two_sheets(two_packets: list[Path], tmp_path: Path) -> Path:
    book = tmp_path / "two.xlsx"
    run("convert", *map(str, two_packets), "-o", str(book), "--quiet")
    return book


def failure(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one error line of a command that must fail with a usage/config error."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    return line


def test_convert_of_two_packet_sets_writes_a_sheet_per_table(two_sheets: Path) -> None:
    from tdtp_format_xlsx.workbook import XlsxFormat, sheet_names

    assert sheet_names(two_sheets) == ["menu", "people"]
    assert XlsxFormat().read([two_sheets], sheet="people").rows() == [(7, "Ann")]
    assert XlsxFormat().read([two_sheets], sheet="menu").rows() == ROWS


def test_import_of_a_workbook_imports_every_sheet(two_sheets: Path, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    run("import", str(two_sheets), f"sqlite:///{db}", "--create", "--quiet")
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT id, name FROM menu ORDER BY id").fetchall() == [
            (1, "tea"), (2, "cake")]
        assert con.execute("SELECT id, who FROM people").fetchall() == [(7, "Ann")]


def test_import_sheet_option_imports_only_that_sheet(two_sheets: Path, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    run("import", str(two_sheets), f"sqlite:///{db}", "--sheet", "people", "--create",
        "--quiet")
    with sqlite3.connect(db) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "people" in tables and "menu" not in tables


def test_import_of_several_sheets_into_one_table_names_the_sheets(
    two_sheets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = failure(capsys, "import", str(two_sheets), f"sqlite:///{tmp_path / 'x.db'}",
                   "--table", "t", "--create")
    assert "the workbook has sheets menu, people: add --sheet NAME" in line


def test_convert_of_two_tables_to_csv_says_what_holds_several(
    two_packets: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = failure(capsys, "convert", *map(str, two_packets), "-o", str(tmp_path / "two.csv"))
    assert "the inputs hold 2 tables and a csv file holds one: write .xlsx" in line
    assert not (tmp_path / "two.csv").exists()


def test_convert_of_a_workbook_with_two_sheets_to_a_packet_is_refused(
    two_sheets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = failure(capsys, "convert", str(two_sheets), "-o", str(tmp_path / "o.tdtp.xml"))
    assert "the inputs hold 2 tables and a packet file holds one" in line


def test_convert_of_two_tables_refuses_one_sheet_name(
    two_packets: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = failure(capsys, "convert", *map(str, two_packets), "-o", str(tmp_path / "t.xlsx"),
                   "--sheet", "S")
    assert "--sheet names one sheet, but the inputs hold 2 tables" in line
