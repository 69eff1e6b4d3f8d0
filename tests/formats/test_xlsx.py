"""The XLSX format: round trips of every type, workbooks made by other tools, several
sheets, the format registry (``tdtp convert``), errors, and streaming 100,000 rows."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("openpyxl")

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from tdtp_format_xlsx.workbook import (
    SCHEMA_SHEET,
    XlsxFormat,
    read_workbook,
    sheet_names,
    sheet_title,
    write_workbook,
)

from tdtp_core import NODATE, Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.cli.main import main
from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.protocols import MultiTableFormat

TYPES = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT", length=50),
    Field("amount", "DECIMAL", precision=20, scale=2),
    Field("score", "REAL"),
    Field("active", "BOOLEAN"),
    Field("born", "DATE"),
    Field("seen", "TIMESTAMP", timezone="UTC"),
    Field("local", "DATETIME"),
    Field("alarm", "TIMESTAMP", subtype="time"),
    Field("photo", "BLOB"),
])
TYPE_ROWS: list[tuple[Any, ...]] = [
    (1, "Ada", Decimal("1500.50"), 1.5, True, date(2024, 1, 2),
     datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC), datetime(2024, 5, 6, 7, 8, 9),
     time(1, 2, 3), b"\x00\x01\xff"),
    (12345678901234567, "", Decimal("123456789012345678.99"), float("nan"), False,
     date(1800, 1, 1), datetime(1850, 1, 1, tzinfo=UTC), datetime(1899, 12, 31, 23, 0),
     time(23, 59, 59, 999000), b""),
    (-999999999999999, "=1+1", Decimal("-0.01"), float("inf"), None, NODATE, None, None,
     None, None),
    (4, "  spaced | pipe \\ back\nline  ", Decimal("0.00"), float("-inf"), True,
     date(9999, 12, 31), datetime(2024, 2, 29, tzinfo=UTC), datetime(1900, 3, 1), time(0),
     b"x" * 100),
    (5, None, None, None, None, None, None, None, None, None),
    (6, "ünïcödé 日本", Decimal("99999999999999.99"), -0.0, False, date(1900, 1, 1),
     datetime(1900, 1, 1, tzinfo=UTC), datetime(2100, 1, 1), time(12), None),
]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return bool(a == b) and type(a) is type(b)


def assert_rows(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for x, y in zip(g, w, strict=True):
            assert same(x, y), (g, w)


@pytest.fixture
def fmt() -> XlsxFormat:
    return XlsxFormat()


def test_type_matrix_round_trip(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "types.xlsx"
    fmt.write(TableStream.from_rows(TYPES, TYPE_ROWS, table="things"), path)
    back = fmt.read([path])
    assert back.schema == TYPES
    assert back.table == "things"
    assert_rows(back.rows(), TYPE_ROWS)


def test_rounding_to_the_millisecond_stops_at_excels_last_instant(
    fmt: XlsxFormat, tmp_path: Path
) -> None:
    schema = Schema([Field("id", "INTEGER"), Field("at", "TIMESTAMP", timezone="UTC"),
                     Field("clock", "TIMESTAMP", subtype="time")])
    path = tmp_path / "last.xlsx"
    fmt.write(TableStream.from_rows(schema, [
        (1, datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
         time(23, 59, 59, 999999))], table="t"), path)
    assert fmt.read([path]).rows() == [
        (1, datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), time(23, 59, 59, 999000))]


def test_cells_have_excel_types(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "types.xlsx"
    fmt.write(TableStream.from_rows(TYPES, TYPE_ROWS, table="things"), path)
    ws = load_workbook(path)["things"]
    assert [c.value for c in ws[1]] == TYPES.names
    assert ws["A1"].font.b
    row2 = ws[2]
    assert row2[0].value == 1 and row2[0].data_type == "n"
    assert row2[2].value == 1500.5 and row2[2].data_type == "n"
    assert row2[4].value is True
    assert row2[5].value == datetime(2024, 1, 2) and row2[5].is_date
    assert row2[6].value == datetime(2024, 1, 2, 3, 4, 5, 123000) and row2[6].is_date
    assert row2[8].value == time(1, 2, 3)
    assert row2[9].value == "AAH/"
    row3 = ws[3]
    assert row3[0].value == "12345678901234567"        # beyond 15 digits: text
    assert row3[2].value == "123456789012345678.99"    # beyond 15 digits: text
    assert row3[3].value == "NaN"
    assert row3[5].value == "1800-01-01"               # before 1900: text
    assert ws["B4"].value == "=1+1" and ws["B4"].data_type == "s"  # never a formula
    assert ws["F4"].value == "0000-00-00"
    assert load_workbook(path)[SCHEMA_SHEET].sheet_state == "hidden"


def test_header_types_writes_reference_header(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    schema = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])
    fmt.write(TableStream.from_rows(schema, [(1, "a")], table="t"), path, header_types=True)
    ws = load_workbook(path)["t"]
    assert [c.value for c in ws[1]] == ["id (INTEGER) *", "name (TEXT)"]
    assert fmt.read([path]).schema == schema


def test_sheet_option_names_the_sheet(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    fmt.write(TableStream.from_rows(TYPES, TYPE_ROWS[:1], table="things"), path, sheet="Q1")
    assert sheet_names(path) == ["Q1"]
    back = fmt.read([path], sheet="q1", table="renamed")
    assert back.table == "renamed" and len(back.rows()) == 1


def test_sheet_titles_follow_excel_rules() -> None:
    assert sheet_title("a:b/c\\d?e*f[g]h") == "a_b_c_d_e_f_g_h"
    assert sheet_title("x" * 40) == "x" * 31
    assert sheet_title("") == "Sheet1"


def test_several_sheets_in_and_out(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    users = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])
    orders = Schema([Field("order_id", "INTEGER", key=True), Field("total", "DECIMAL",
                                                                    precision=10, scale=2)])
    write_workbook(path, [
        TableStream.from_rows(users, [(1, "a"), (2, "b")], table="users"),
        ("Orders 2024", TableStream.from_rows(orders, [(7, Decimal("9.90"))], table="orders")),
    ])
    assert sheet_names(path) == ["users", "Orders 2024"]
    streams = read_workbook(path)
    assert [(s.table, s.schema) for s in streams] == [("users", users), ("orders", orders)]
    assert streams[1].rows() == [(7, Decimal("9.90"))]
    assert streams[0].rows() == [(1, "a"), (2, "b")]
    assert XlsxFormat().read([path], sheet="Orders 2024").rows() == [(7, Decimal("9.90"))]


def test_is_a_multi_table_format(fmt: XlsxFormat) -> None:
    assert isinstance(fmt, MultiTableFormat)


def test_write_tables_then_read_table_by_name(fmt: XlsxFormat, tmp_path: Path) -> None:
    schema = Schema([Field("id", "INTEGER")])
    path = tmp_path / "b.xlsx"
    fmt.write_tables([TableStream.from_rows(schema, [(1,)], table="a"),
                      TableStream.from_rows(schema, [(2,)], table="b")], path)
    assert fmt.table_names(path) == ["a", "b"]
    assert fmt.read_table(path, "b").rows() == [(2,)]


def test_table_names_leave_out_hidden_sheets(fmt: XlsxFormat, tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Data"
    book.create_sheet("Lists").sheet_state = "hidden"
    book.save(tmp_path / "h.xlsx")
    assert fmt.table_names(tmp_path / "h.xlsx") == ["Data"]
    assert sheet_names(tmp_path / "h.xlsx") == ["Data", "Lists"]


def test_two_tables_one_sheet_is_refused(tmp_path: Path) -> None:
    schema = Schema([Field("id", "INTEGER")])
    with pytest.raises(ConfigError, match="both be written to sheet 'T'"):
        write_workbook(tmp_path / "b.xlsx", [TableStream.from_rows(schema, [], table="t"),
                                             TableStream.from_rows(schema, [], table="T")])
    assert not (tmp_path / "b.xlsx").exists()


def test_several_workbooks_read_as_one_table(fmt: XlsxFormat, tmp_path: Path) -> None:
    schema = Schema([Field("id", "INTEGER")])
    for i in (1, 2):
        fmt.write(TableStream.from_rows(schema, [(i,)], table="t"), tmp_path / f"{i}.xlsx")
    assert fmt.read([tmp_path / "1.xlsx", tmp_path / "2.xlsx"]).rows() == [(1,), (2,)]


def test_empty_table_round_trips(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    fmt.write(TableStream.from_rows(TYPES, [], table="things"), path)
    back = fmt.read([path])
    assert back.schema == TYPES and back.rows() == []


# ------------------------------------------------------------- other tools' books


def other_tool_workbook(path: Path) -> None:
    """A workbook as a person makes one: title row, styled and merged header cells,
    blank rows, formulas with saved results, an error value, dates and a blank column."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Sales"
    ws["A1"] = "Quarterly sales"
    ws.merge_cells("A1:F1")
    ws["A1"].font = Font(size=16, bold=True)
    headers = ["Region", "Units", "Price", "Total", "Closed", "Note"]
    for col, text in enumerate(headers, 1):
        cell = ws.cell(row=3, column=col, value=text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="4472C4")
        cell.alignment = Alignment(horizontal="center")
    ws.merge_cells("F3:G3")
    rows = [
        ("North", 10, 2.5, "=B4*C4", date(2024, 1, 31), "first"),
        ("South", 3, 4.0, "=B5*C5", date(2024, 2, 29), None),
        (None, None, None, None, None, None),
        ("East", 7, 1.25, "=B7*C7", date(2024, 3, 31), "#N/A"),
    ]
    for r, values in enumerate(rows, 4):
        for c, value in enumerate(values, 1):
            if value is not None:
                ws.cell(row=r, column=c, value=value).number_format = (
                    "yyyy-mm-dd" if isinstance(value, date) else "General")
    ws.append([])
    wb.save(path)
    # Spreadsheet programs save each formula's last result; openpyxl does not: add them.
    saved = {"D4": "25", "D5": "12", "D7": "8.75"}
    with zipfile.ZipFile(path) as zin:
        parts = {n: zin.read(n) for n in zin.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, value in saved.items():
        start = sheet.index(f'<c r="{ref}"')
        end = sheet.index("</c>", start)
        sheet = sheet[:start] + sheet[start:end].replace("<v></v>", f"<v>{value}</v>") + sheet[end:]
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def test_workbook_from_another_tool(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "sales.xlsx"
    other_tool_workbook(path)
    stream = fmt.read([path])
    assert stream.table == "Sales"
    assert [(f.name, f.type) for f in stream.schema] == [
        ("Region", "TEXT"), ("Units", "INTEGER"), ("Price", "REAL"), ("Total", "REAL"),
        ("Closed", "DATE"), ("Note", "TEXT"),
    ]
    assert stream.rows() == [
        ("North", 10, 2.5, 25.0, date(2024, 1, 31), "first"),
        ("South", 3, 4.0, 12.0, date(2024, 2, 29), None),
        ("East", 7, 1.25, 8.75, date(2024, 3, 31), None),
    ]


def test_formula_without_saved_result_reads_as_null(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "raw.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["a", "double"])
    ws.append([2, "=A2*2"])
    wb.save(path)
    assert fmt.read([path]).rows() == [(2, None)]


def test_header_row_option_and_blank_header_cells(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([1, 2, 3])
    ws.append(["id", None, "id", None])
    ws.append([1, "x", 2, datetime(2024, 1, 1, 10, 30)])
    ws.append([2, "y", "three", datetime(2024, 1, 2)])
    wb.save(path)
    stream = fmt.read([path], header_row=2)
    assert [(f.name, f.type) for f in stream.schema] == [
        ("id", "INTEGER"), ("B", "TEXT"), ("id_2", "TEXT"), ("D", "TIMESTAMP")]
    assert stream.rows() == [(1, "x", "2", datetime(2024, 1, 1, 10, 30)),
                             (2, "y", "three", datetime(2024, 1, 2))]


def test_reference_header_declares_types(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "ref.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Sheet1"
    ws.append(["id (INTEGER) *", "customer_name (TEXT)", "balance (DECIMAL)",
               "joined (DATE)", "ok (BOOLEAN)"])
    ws.append([1, "Ann", 10.5, 45292, "TRUE"])
    ws.append([2, 42, "7", None, "0"])
    wb.save(path)
    stream = fmt.read([path])
    assert [(f.name, f.type, f.key) for f in stream.schema] == [
        ("id", "INTEGER", True), ("customer_name", "TEXT", False),
        ("balance", "DECIMAL", False), ("joined", "DATE", False), ("ok", "BOOLEAN", False)]
    assert stream.rows() == [(1, "Ann", Decimal("10.5"), date(2024, 1, 1), True),
                             (2, "42", Decimal("7"), None, False)]


def test_bad_cell_names_sheet_row_and_field(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "T"
    ws.append(["id (INTEGER)"])
    ws.append([1])
    ws.append(["one"])
    wb.save(path)
    with pytest.raises(SchemaError) as exc:
        fmt.read([path]).rows()
    assert str(exc.value).startswith(f"{path}: sheet 'T' row 3: field 'id': not a INTEGER")


def test_missing_sheet_lists_sheets(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    fmt.write(TableStream.from_rows(Schema([Field("a", "TEXT")]), [], table="one"), path)
    with pytest.raises(ConfigError, match="sheet 'two' not found; the workbook has: one"):
        fmt.read([path], sheet="two")


def test_not_a_workbook(fmt: XlsxFormat, tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(SchemaError, match="not an xlsx workbook"):
        fmt.read([path])


def test_control_characters_fail_or_are_replaced(fmt: XlsxFormat, tmp_path: Path) -> None:
    schema = Schema([Field("id", "INTEGER"), Field("t", "TEXT")])
    rows = [(1, "ok"), (2, "bell\x07")]
    path = tmp_path / "c.xlsx"
    with pytest.raises(SchemaError, match=r"sheet 't' row 3: field 't': character U\+0007"):
        fmt.write(TableStream.from_rows(schema, rows, table="t"), path)
    assert not path.exists()
    fmt.write(TableStream.from_rows(schema, rows, table="t"), path, replace_invalid=True)
    assert fmt.read([path]).rows() == [(1, "ok"), (2, "bell\ufffd")]


def test_text_longer_than_a_cell_is_refused(fmt: XlsxFormat, tmp_path: Path) -> None:
    schema = Schema([Field("t", "TEXT")])
    with pytest.raises(SchemaError, match="32768 characters do not fit"):
        fmt.write(TableStream.from_rows(schema, [("x" * 32768,)], table="t"),
                  tmp_path / "long.xlsx")


def test_unknown_option(fmt: XlsxFormat, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="xlsx files do not support the option"):
        fmt.write(TableStream.from_rows(TYPES, [], table="t"), tmp_path / "x.xlsx", compress="zstd")


# --------------------------------------------------------------- registry and CLI


def tdtp(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main([str(a) for a in args])
    code = exited.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().out


def test_convert_packet_to_workbook_and_back(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    packet = tmp_path / "things.tdtp.xml"
    write_packets(TableStream.from_rows(TYPES, TYPE_ROWS, table="things"), packet,
                  compress="zstd")
    code, out = tdtp(capsys, "convert", packet, "-o", tmp_path / "things.xlsx")
    assert code == 0, out
    code, out = tdtp(capsys, "convert", tmp_path / "things.xlsx", "-o", tmp_path / "back.tdtp.xml")
    assert code == 0, out
    back = read_packets(tmp_path / "back.tdtp.xml")
    assert back.table == "things" and back.schema == TYPES
    assert_rows(back.rows(), TYPE_ROWS)


# ------------------------------------------------------------------- streaming

STREAM_CODE = """
import resource, sys
from datetime import date, datetime
from decimal import Decimal
from tdtp_core import Field, Schema, TableStream
from tdtp_format_xlsx.workbook import XlsxFormat
import openpyxl

n, path, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
schema = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT"),
                 Field("amount", "DECIMAL", precision=12, scale=2), Field("day", "DATE"),
                 Field("at", "TIMESTAMP"), Field("ok", "BOOLEAN"), Field("note", "TEXT")])
def rows():
    for i in range(n):
        yield (i, f"name {i}", Decimal(i).scaleb(-2), date(2024, 1, 1 + i % 28),
               datetime(2024, 1, 1, i % 24, i % 60), i % 2 == 0, "x" * 40 + str(i))
fmt = XlsxFormat()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = last = 0
if mode == "write":
    fmt.write(TableStream.from_rows(schema, rows(), table="big", batch_size=2000), path)
else:
    for batch in fmt.read([path], batch_size=2000).batches():
        count += len(batch)
        last = batch[-1][0]
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(count, last, grown)
"""


def _stream_through(n: int, path: Path, mode: str) -> tuple[int, int, float]:
    out = subprocess.run([sys.executable, "-c", STREAM_CODE, str(n), str(path), mode],
                         capture_output=True, text=True, check=True, timeout=600)
    count, last, grown = out.stdout.split()
    return int(count), int(last), float(grown)


@pytest.mark.slow
def test_100k_rows_stream_through_xlsx(tmp_path: Path) -> None:
    """Memory must not grow with the row count (it would by ~55 MB for 80,000 more rows
    held as Python values, by hundreds of MB for a workbook held in memory)."""
    grown = {}
    for n in (20_000, 100_000):
        path = tmp_path / f"big{n}.xlsx"
        _, _, written = _stream_through(n, path, "write")
        count, last, read = _stream_through(n, path, "read")
        assert (count, last) == (n, n - 1)
        grown[n] = (written, read)
    assert grown[100_000][0] - grown[20_000][0] < 10, grown
    # openpyxl's reader keeps each emptied <row> element (~80 bytes a row): small, but
    # it is there, hence the wider margin.
    assert grown[100_000][1] - grown[20_000][1] < 20, grown


def test_plugin_registered_for_xlsx_extension() -> None:
    from tdtp_core.plugins import get_host

    get_host.cache_clear()
    assert isinstance(get_host().format_for_path("book.XLSX"), XlsxFormat)

