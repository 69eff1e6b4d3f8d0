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
