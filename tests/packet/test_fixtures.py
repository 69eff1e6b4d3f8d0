"""Every interoperability fixture decodes to what ``fixtures/EXPECTED.md`` says.

Positive fixtures are described once in ``EXPECT`` (table, type, field names, rows) and
checked by parametrized tests; the negative ones have their own tests below.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tdtp_core import (
    NODATE,
    IntegrityError,
    PacketError,
    TableStream,
    inspect_packet,
    read_packets,
    verify_packets,
    write_packets,
)
from tdtp_core.packet import PacketWriter, WriteOptions, parse_packet

from .support import assert_rows_equal, ts

D = Decimal


@dataclass(frozen=True)
class Expect:
    table: str
    fields: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    packet_type: str = "reference"
    needs_zstd: bool = False


USERS_FIELDS = ("ID", "Name", "Email", "City", "Balance", "IsActive", "CreatedAt")
USERS_ROWS = (
    (1, "John Doe", "john@example.com", "Moscow", 1500, 1, "2025-01-15T10:00:00Z"),
    (2, "Jane Smith", "jane@example.com", "SPb", 2000, 1, "2025-02-20T11:00:00Z"),
    (3, "Bob Johnson", "bob@example.com", "Omsk", 500, 0, "2025-03-10T12:00:00Z"),
    (4, "Alice Brown", "alice@example.com", "Kazan", 2500, 1, "2025-01-05T09:00:00Z"),
    (5, "Charlie Davis", "charlie@example.com", "SPb", 800, 1, "2025-04-12T13:00:00Z"),
    (6, "Emma Wilson", "emma@example.com", "Moscow", 3000, 1, "2024-12-20T10:00:00Z"),
    (7, "Frank Miller", "frank@example.com", "Omsk", 100, 0, "2025-05-05T14:00:00Z"),
    (8, "Grace Lee", "grace@example.com", "SPb", 1800, 1, "2025-02-28T15:00:00Z"),
)


def _compressed_row(line: str) -> tuple[Any, ...]:
    i, name, email, balance, active, city, created, login = line.split("|")
    return (int(i), name, email, D(balance), int(active), city, ts(created), ts(login))


USERS_COMPRESSED_ROWS = tuple(map(_compressed_row, [
    "1|John Doe|john@example.com|1500|1|Moscow|"
    "2025-01-15T10:00:00Z|2025-11-10T15:30:00Z",
    "2|Jane Smith|jane@example.com|2000|1|SPb|"
    "2025-02-20T11:00:00Z|2025-11-12T09:15:00Z",
    "3|Bob Johnson|bob@example.com|500|0|Moscow|"
    "2025-03-10T12:00:00Z|2025-10-05T14:20:00Z",
    "4|Alice Brown|alice@example.com|2500|1|Kazan|"
    "2025-01-05T09:00:00Z|2025-11-13T11:45:00Z",
    "5|Charlie Davis|charlie@example.com|800|1|SPb|"
    "2025-04-12T13:00:00Z|2025-11-11T16:30:00Z",
    "6|Emma Wilson|emma@example.com|3000|1|Moscow|"
    "2024-12-20T10:00:00Z|2025-11-14T08:00:00Z",
    "7|Frank Miller|frank@example.com|1200|0|Moscow|"
    "2025-05-18T14:00:00Z|2025-09-20T10:10:00Z",
    "8|Grace Lee|grace@example.com|1800|1|SPb|"
    "2025-02-28T15:00:00Z|2025-11-13T12:20:00Z",
    "9|Henry Taylor|henry@example.com|400|1|Kazan|"
    "2025-06-01T16:00:00Z|2025-11-09T17:30:00Z",
    "10|Ivy Anderson|ivy@example.com|2200|1|Moscow|"
    "2025-01-30T17:00:00Z|2025-11-14T07:45:00Z",
]))

SPEC_COMPACT_ROWS = tuple(
    (dept, name, loc, emp, full, D(salary), notes)
    for dept, name, loc in [(10, "Sales", "Moscow")]
    for emp, full, salary, notes in [
        (101, "Ivan Petrov", "45000.00", "on probation"),
        (102, "Anna Sidorova", "52000.00", None),
        (103, "Boris Kozlov", "48000.00", None),
        (104, "Elena Novikova", "55000.00", "team lead"),
        (105, "Dmitry Smirnov", "49500.00", None),
    ]
) + tuple(
    (20, "Engineering", "Saint Petersburg", emp, full, D(salary), None)
    for emp, full, salary in [
        (201, "Alice Volkov", "72000.00"),
        (202, "Charlie Morozov", "65000.00"),
        (203, "Diana Popova", "69000.00"),
        (204, "Egor Lebedev", "61000.00"),
        (205, "Fiona Kuznetsova", "78000.00"),
    ]
)

EMPLOYEES_ROWS = (
    (1, "Ivan Petrov", 1, "Software Engineer", D("95000"), ts("2023-03-15T09:00:00Z"), 1),
    (2, "Maria Sidorova", 2, "HR Manager", D("75000"), ts("2022-07-01T09:00:00Z"), 1),
    (3, "Alexei Volkov", 1, "Senior Engineer", D("120000"), ts("2021-11-20T09:00:00Z"), 1),
    (4, "Elena Kozlova", 3, "Financial Analyst", D("88000"), ts("2023-09-10T09:00:00Z"), 1),
    (5, "Dmitry Novikov", 1, "DevOps Engineer", D("105000"), ts("2022-04-05T09:00:00Z"), 1),
    (6, "Svetlana Morozova", 2, "Recruiter", D("65000"), ts("2024-01-15T09:00:00Z"), 1),
    (7, "Andrei Lebedev", 3, "Accountant", D("72000"), ts("2021-06-30T09:00:00Z"), 0),
    (8, "Natalia Popova", 4, "Product Manager", D("110000"), ts("2022-12-01T09:00:00Z"), 1),
    (9, "Sergei Sokolov", 1, "Junior Engineer", D("70000"), ts("2024-06-01T09:00:00Z"), 1),
    (10, "Olga Mikhailova", 4, "Business Analyst", D("92000"), ts("2023-05-20T09:00:00Z"), 1),
)

EXPECT: dict[str, Expect] = {
    "users.tdtp.xml": Expect("users", USERS_FIELDS, USERS_ROWS),
    "users_nullable.tdtp.xml": Expect(
        "users_nullable", ("ID", "Name", "City", "Balance"),
        ((1, "Alice", "", 1500), (2, "Bob", "Moscow", 2000),
         (3, "Carol", "", 800), (4, "Dave", "SPb", 1200)),
    ),
    "users_special_values.tdtp.xml": Expect(
        "users_special_values", ("ID", "Name", "City", "Balance"),
        ((1, "Alice", None, 1500), (2, "Bob", "Moscow", 2000),
         (3, "Carol", None, None), (4, "Dave", "SPb", 1200)),
    ),
    "users_compressed.tdtp.xml": Expect(
        "Users",
        ("ID", "Name", "Email", "Balance", "IsActive", "City", "CreatedAt", "LastLoginAt"),
        USERS_COMPRESSED_ROWS, needs_zstd=True,
    ),
    "dept_emp_compact.tdtp.xml": Expect(
        "dept_emp", ("DeptID", "DeptName", "Location", "EmpID", "Name", "Salary"),
        (("D1", "Sales", "Moscow", "E1", "Alice", 50000),
         ("D1", "Sales", "Moscow", "E2", "Bob", 55000),
         ("D1", "Sales", "Moscow", "E3", "Carol", 60000),
         ("D2", "IT", "SPb", "E4", "Dave", 70000),
         ("D2", "IT", "SPb", "E5", "Eve", 75000),
         ("D3", "HR", "Kazan", "E6", "Frank", 45000)),
    ),
    "specials.tdtp.xml": Expect(
        "specials", ("id", "label", "score", "event_date"),
        ((1, "hello", 3.14, date(2024, 1, 15)),
         (2, None, None, date(2024, 6, 1)),
         (3, "world", math.nan, NODATE),
         (4, "test", math.inf, date(2025, 12, 31)),
         (5, "end", -math.inf, NODATE)),
    ),
    "employees.tdtp.xml": Expect(
        "employees",
        ("employee_id", "full_name", "department_id", "position", "salary", "hired_at",
         "is_active"),
        EMPLOYEES_ROWS,
    ),
    "departments.tdtp.xml": Expect(
        "departments", ("department_id", "department_name", "head_count_plan", "budget_annual"),
        ((1, "Engineering", 8, D("4500000")), (2, "Human Resources", 4, D("1200000")),
         (3, "Finance", 3, D("1800000")), (4, "Product", 5, D("2200000"))),
    ),
    "derived/access_fields.nocomment.tdtp.xml": Expect(
        "access_orders",
        ("Order ID", "Total Cost $", "Discount %", "E-mail", "Phone #", "Ship/Date",
         "Tax (USD)", "Is Active?", "Notes & Refs"),
        ((1, 199.99, 10.5, "alice@example.com", "+7-999-123-45-67", date(2026, 4, 1),
          19.99, 1, "see ref #42"),
         (2, 49.0, 0.0, "bob@example.com", "+1-800-555-0100", date(2026, 4, 2), 4.9, 1, ""),
         (3, 320.5, 5.0, "carol@example.com", "+44-20-7946-0958", date(2026, 4, 3),
          32.05, 0, "cancelled")),
    ),
    "derived/cyrillic_fields.nocomment.tdtp.xml": Expect(
        "сотрудники",
        ("Идентификатор", "Имя", "Фамилия", "Дата рождения", "Номер телефона",
         "Статус заказа", "Сумма (руб.)"),
        ((1, "Иван", "Иванов", date(1985, 3, 15), "+7-999-111-22-33", "активный", 75000.0),
         (2, "Мария", "Петрова", date(1992, 7, 22), "+7-999-444-55-66", "активный", 82000.5),
         (3, "Алексей", "Сидоров", date(1978, 11, 1), "+7-999-777-88-99", "уволен", 0.0)),
    ),
    "derived/exotic_mixed.nocomment.tdtp.xml": Expect(
        "exotic_test",
        ("id", "Österreich", "Ñoño", "Cena (zł)", "Precio %", "Коэф. роста", "~disabled",
         "a&b total", "cost@unit", "flag*", "1st_place"),
        ((1, "Vienna", "Quito", 99.9, 12.5, 1.15, 0, 200.0, 10.0, 1, 1),
         (2, "Graz", "Bogota", 45.0, 0.0, 0.98, 1, 150.0, 8.5, 0, 2)),
    ),
    "derived/safe_import.nocomment.tdtp.xml": Expect(
        "clean_table", ("id", "user_name", "email", "created_at", "amount", "_internal"),
        ((1, "alice", "alice@example.com", datetime(2026, 4, 1, 12, 0), 100.0, 0),
         (2, "bob", "bob@example.com", datetime(2026, 4, 1, 13, 0), 200.0, 1)),
    ),
    "extracted/go_packet_test_ParseReference.tdtp.xml": Expect(
        "CustTable", ("ClientID", "ClientName", "Balance"),
        ((1001, "ООО Рога и Копыта", D("150000.50")), (1002, "ИП Петров", D("-5000.00"))),
    ),
    "extracted/go_compact_test_SpecialValues.tdtp.xml": Expect(
        "sensor_readings", ("sensor_id", "value", "notes"), ((1, math.inf, None),),
    ),
    "extracted/go_newline_test_LegacyRawCR.tdtp.xml": Expect(
        "T", ("a",), (("line1\nline2\nline3",),),
    ),
    "extracted/py_libtdtp_SAMPLE_XML.tdtp.xml": Expect(
        "Users", ("id", "name", "score"), ((1, "Alice", D("99.5")), (2, "Bob", D("42.0"))),
    ),
    "extracted/spec_reference.tdtp.xml": Expect(
        "users", ("id", "username", "email", "balance", "is_active", "created_at"),
        ((1, "john_doe", "john@example.com", D("1500.50"), True, ts("2025-01-15T10:30:00Z")),
         (2, "jane_smith", "jane@example.com", D("2300.00"), True, ts("2025-01-16T14:20:00Z")),
         (3, "bob_jones", "bob@example.com", D("750.25"), False, ts("2025-01-17T09:15:00Z"))),
    ),
    "extracted/spec_request.tdtp.xml": Expect("users", (), (), packet_type="request"),
    "extracted/spec_response.tdtp.xml": Expect(
        "users", ("id", "username", "balance", "is_active"),
        ((2, "jane_smith", D("2300.00"), True), (1, "john_doe", D("1500.50"), True)),
        packet_type="response",
    ),
    "extracted/spec_reference_compact.tdtp.xml": Expect(
        "dept_employees_report",
        ("dept_id", "dept_name", "location", "emp_id", "full_name", "salary", "notes"),
        SPEC_COMPACT_ROWS,
    ),
    "extracted/spec_error.tdtp.xml": Expect(
        "tdtp_errors",
        ("package_uuid", "pipeline", "error_code", "error_message", "created_at"),
        (("550e8400-e29b-41d4-a716-446655440000", "employee-dept-report",
          "MERCURY_UNAVAILABLE", "connect: connection refused", ts("2026-02-26T10:00:00Z")),),
        packet_type="error",
    ),
    # DECISIONS 5: delta packets are accepted (the reference rejects them).
    "extracted/spec_delta.tdtp.xml": Expect(
        "users", ("id", "username", "balance", "updated_at"),
        ((1, "john_doe", D("1600.00"), ts("2025-11-16T12:03:00Z")),),
        packet_type="delta",
    ),
    "extracted/spec_alarm.tdtp.xml": Expect("users", (), (), packet_type="alarm"),
}

#: Originals whose leading comment contains ``--``: not well-formed XML.
SANITIZE_ORIGINALS = (
    "access_fields.tdtp.xml",
    "cyrillic_fields.tdtp.xml",
    "exotic_mixed.tdtp.xml",
    "safe_import.tdtp.xml",
)
NEGATIVE = (
    *SANITIZE_ORIGINALS,
    "extracted/spec_reference_v14.tdtp.xml",
    "extracted/spec_reference_compressed.tdtp.xml",
)

POSITIVE = sorted(EXPECT)


@pytest.fixture
def fixture_path(fixtures_dir: Path, request: pytest.FixtureRequest) -> Path:
    name: str = request.param
    if name in EXPECT and EXPECT[name].needs_zstd:
        request.getfixturevalue("zstd_codec")
    return fixtures_dir / name


def _read(path: Path) -> tuple[Any, list[tuple[Any, ...]]]:
    stream = read_packets(path)
    return stream, stream.rows()


def test_every_fixture_file_is_covered(fixtures_dir: Path) -> None:
    on_disk = {p.relative_to(fixtures_dir).as_posix() for p in fixtures_dir.rglob("*.tdtp.xml")}
    assert on_disk == set(EXPECT) | set(NEGATIVE)


@pytest.mark.parametrize("fixture_path", POSITIVE, indirect=True, ids=POSITIVE)
def test_fixture_header(fixture_path: Path, fixtures_dir: Path) -> None:
    want = EXPECT[fixture_path.relative_to(fixtures_dir).as_posix()]
    stream, _ = _read(fixture_path)
    assert stream.header.table_name == want.table
    assert stream.table == want.table
    assert stream.header.packet_type == want.packet_type


@pytest.mark.parametrize("fixture_path", POSITIVE, indirect=True, ids=POSITIVE)
def test_fixture_field_names(fixture_path: Path, fixtures_dir: Path) -> None:
    want = EXPECT[fixture_path.relative_to(fixtures_dir).as_posix()]
    stream, _ = _read(fixture_path)
    assert tuple(stream.schema.names) == want.fields


@pytest.mark.parametrize("fixture_path", POSITIVE, indirect=True, ids=POSITIVE)
def test_fixture_rows(fixture_path: Path, fixtures_dir: Path) -> None:
    want = EXPECT[fixture_path.relative_to(fixtures_dir).as_posix()]
    _, rows = _read(fixture_path)
    assert_rows_equal(want.rows, rows)


@pytest.mark.parametrize("fixture_path", POSITIVE, indirect=True, ids=POSITIVE)
def test_fixture_stream_schema_has_no_encoding_details(fixture_path: Path) -> None:
    stream, _ = _read(fixture_path)
    for f in stream.schema.fields:
        assert f.special_values is None and f.fixed is False, f


# ----------------------------------------------------------------- per-fixture details


def test_users_matches_its_csv_rendering(fixtures_dir: Path) -> None:
    with open(fixtures_dir / "users.tdtp.xml.csv", newline="", encoding="utf-8") as fh:
        header, *lines = list(csv.reader(fh))
    stream = read_packets(fixtures_dir / "users.tdtp.xml")
    assert stream.schema.names == header
    assert [[str(v) for v in row] for row in stream] == lines


def test_users_key_field(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "users.tdtp.xml")
    assert [f.name for f in stream.schema.key_fields] == ["ID"]


def test_users_nullable_comment_inside_data_is_ignored(fixtures_dir: Path) -> None:
    info = inspect_packet(fixtures_dir / "users_nullable.tdtp.xml")
    assert info.header.records_in_part == 4
    assert len(read_packets(fixtures_dir / "users_nullable.tdtp.xml").rows()) == 4


def test_users_compressed_inspect_without_decompressing(fixtures_dir: Path) -> None:
    info = inspect_packet(fixtures_dir / "users_compressed.tdtp.xml")
    assert info.data.compression == "zstd"
    assert info.data.checksum is None
    assert info.header.records_in_part == 10
    assert info.header.table_name == "Users"
    assert info.version == "1.0"
    assert info.header.message_id == "REF-2026-c4d49ebd-P1"


def test_users_compressed_keeps_nanosecond_timestamp_text(fixtures_dir: Path) -> None:
    header = inspect_packet(fixtures_dir / "users_compressed.tdtp.xml").header
    assert header.timestamp_text == "2026-02-23T10:41:47.819124576Z"
    assert header.timestamp == datetime.fromisoformat("2026-02-23T10:41:47.819124+00:00")


def test_users_compressed_reads_from_bytes(fixtures_dir: Path, zstd_codec: Any) -> None:
    data = (fixtures_dir / "users_compressed.tdtp.xml").read_bytes()
    rows = read_packets(data).rows()
    assert len(rows) == 10 and rows[0][0] == 1


def test_dept_emp_compact_packet_schema_marks_fixed(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "dept_emp_compact.tdtp.xml")
    packet_schema = stream.metadata["packet_schema"]
    assert [f.name for f in packet_schema.fields if f.fixed] == ["DeptID", "DeptName", "Location"]
    assert inspect_packet(fixtures_dir / "dept_emp_compact.tdtp.xml").data.compact is True


def test_specials_packet_schema_exposes_markers(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "specials.tdtp.xml")
    sv = stream.metadata["packet_schema"].field("score").special_values
    assert (sv.null, sv.nan, sv.infinity, sv.neg_infinity) == ("[NULL]", "NaN", "INF", "-INF")
    assert stream.metadata["packet_schema"].field("event_date").special_values.no_date == (
        "0000-00-00")


def test_go_compact_special_values_packet_schema(fixtures_dir: Path) -> None:
    path = fixtures_dir / "extracted/go_compact_test_SpecialValues.tdtp.xml"
    schema = read_packets(path).metadata["packet_schema"]
    assert [f.name for f in schema.fields if f.fixed] == ["sensor_id"]
    sv = schema.field("value").special_values
    assert (sv.infinity, sv.neg_infinity, sv.nan) == ("INF", "-INF", "NaN")
    assert schema.field("notes").special_values.null == "[NULL]"
    assert inspect_packet(path).data.compact is True


@pytest.mark.parametrize("name", ["employees.tdtp.xml", "departments.tdtp.xml"])
def test_fixture_with_utf8_bom(fixtures_dir: Path, name: str) -> None:
    assert (fixtures_dir / name).read_bytes().startswith(b"\xef\xbb\xbf")
    assert inspect_packet(fixtures_dir / name).header.table_name == name.split(".")[0]


def test_employees_active_count(fixtures_dir: Path) -> None:
    rows = read_packets(fixtures_dir / "employees.tdtp.xml").rows()
    assert sum(1 for r in rows if r[-1] == 1) == 9


def test_legacy_raw_cr_fixture_really_holds_raw_cr(fixtures_dir: Path) -> None:
    data = (fixtures_dir / "extracted/go_newline_test_LegacyRawCR.tdtp.xml").read_bytes()
    assert b"line1\r\nline2\rline3" in data


def test_legacy_raw_cr_fixture_lowercase_type_reads_as_text(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "extracted/go_newline_test_LegacyRawCR.tdtp.xml")
    assert stream.schema.fields[0].type == "string"
    assert stream.header.part_number == 0 and stream.header.total_parts == 0


def test_parse_reference_first_row_has_three_values(fixtures_dir: Path) -> None:
    rows = read_packets(fixtures_dir / "extracted/go_packet_test_ParseReference.tdtp.xml").rows()
    assert len(rows[0]) == 3 and rows[0][0] == 1001


def test_sample_xml_id_is_integer(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "extracted/py_libtdtp_SAMPLE_XML.tdtp.xml")
    assert stream.schema.field("id").type == "INTEGER"


def test_spec_request_has_query_and_addressing(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "extracted/spec_request.tdtp.xml")
    assert stream.query is not None
    assert (stream.header.sender, stream.header.recipient) == ("ClientApp", "ServerDB")
    assert stream.header.message_id == "REQ-2025-xyz789"


def test_spec_response_has_reply_and_context(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "extracted/spec_response.tdtp.xml")
    assert stream.header.in_reply_to == "REQ-2025-xyz789"
    assert stream.query_context is not None


def test_spec_delta_is_accepted_with_its_query(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "extracted/spec_delta.tdtp.xml")
    assert stream.header.packet_type == "delta"
    assert stream.query is not None


def test_spec_alarm_parses_without_alarm_details(fixtures_dir: Path) -> None:
    stream = read_packets(fixtures_dir / "extracted/spec_alarm.tdtp.xml")
    assert stream.header.packet_type == "alarm"
    assert stream.metadata["alarm"] is None
    assert stream.rows() == []
    assert (stream.header.sender, stream.header.recipient) == ("ServerDB", "MonitoringSystem")


def test_spec_reference_compact_has_comments_in_schema_and_data(fixtures_dir: Path) -> None:
    path = fixtures_dir / "extracted/spec_reference_compact.tdtp.xml"
    assert path.read_bytes().count(b"<!--") >= 4
    assert len(read_packets(path).rows()) == 10


# ------------------------------------------------------------------ negative fixtures


@pytest.mark.parametrize("name", SANITIZE_ORIGINALS)
def test_sanitize_original_with_double_hyphen_comment_is_not_well_formed(
    fixtures_dir: Path, name: str
) -> None:
    with pytest.raises(PacketError, match="not well-formed") as exc_info:
        read_packets(fixtures_dir / name)
    assert name in str(exc_info.value)
    assert "line" in str(exc_info.value)
    assert not isinstance(exc_info.value, IntegrityError)


def test_spec_reference_v14_fails_schema_hash_first(fixtures_dir: Path) -> None:
    path = fixtures_dir / "extracted/spec_reference_v14.tdtp.xml"
    with pytest.raises(IntegrityError, match="schema hash mismatch") as exc_info:
        read_packets(path).rows()
    assert path.name in str(exc_info.value)


def test_spec_reference_v14_reads_without_verification(fixtures_dir: Path) -> None:
    path = fixtures_dir / "extracted/spec_reference_v14.tdtp.xml"
    rows = read_packets(path, verify=False).rows()
    assert rows == [(1, "Alice"), (2, "Bob"), (3, "Carol")]


def test_spec_reference_compressed_placeholder_fails(fixtures_dir: Path) -> None:
    path = fixtures_dir / "extracted/spec_reference_compressed.tdtp.xml"
    with pytest.raises(PacketError, match="Base64") as exc_info:
        read_packets(path).rows()
    assert path.name in str(exc_info.value)


def test_spec_reference_compressed_inspects(fixtures_dir: Path) -> None:
    info = inspect_packet(fixtures_dir / "extracted/spec_reference_compressed.tdtp.xml")
    assert info.data.compression == "zstd"
    assert info.header.records_in_part == 1000



# ------------------------------------------- our writer re-writes every fixture faithfully

REWRITE_OPTIONS = {"plain": {}, "integrity+zstd": {"integrity": True, "compress": "zstd"}}


@pytest.mark.parametrize("options", list(REWRITE_OPTIONS.values()), ids=list(REWRITE_OPTIONS))
@pytest.mark.parametrize("fixture_path", POSITIVE, indirect=True, ids=POSITIVE)
def test_fixture_survives_rewrite(
    fixture_path: Path, tmp_path: Path, options: dict[str, Any],
    request: pytest.FixtureRequest,
) -> None:
    if "compress" in options:
        request.getfixturevalue("zstd_codec")
    original = read_packets(fixture_path)
    schema, rows = original.schema, original.rows()
    again = read_packets(*write_packets(
        TableStream.from_rows(schema, rows, table=original.table), tmp_path / "re.tdtp.xml",
        **options,
    ))
    assert again.table == original.table
    assert again.schema == schema
    assert_rows_equal(rows, again.rows())


# ------------------------------------------------- users.tdtp.xml binding behaviours


def test_users_inspect_summary(fixtures_dir: Path) -> None:
    info = inspect_packet(fixtures_dir / "users.tdtp.xml")
    assert (info.header.table_name, len(info.schema.fields), info.header.records_in_part) == (
        "users", 7, 8)
    assert info.data.compression is None


def test_users_integrity_stamp_and_verify(fixtures_dir: Path, tmp_path: Path) -> None:
    stream = read_packets(fixtures_dir / "users.tdtp.xml")
    (path,) = write_packets(stream, tmp_path / "u.tdtp.xml", integrity=True)
    info = inspect_packet(path)
    hashes = (info.root_xxh3, info.schema_xxh3, info.data.xxh3)
    assert all(h is not None and re.fullmatch(r"[0-9a-f]{32}", h) for h in hashes)
    assert len(verify_packets(path)) == 1
    assert read_packets(path).rows() == list(USERS_ROWS)
    path.write_bytes(path.read_bytes().replace(b"John Doe", b"John Dough"))
    with pytest.raises(IntegrityError, match="mismatch"):
        verify_packets(path)


def test_users_unstamped_verifies(fixtures_dir: Path) -> None:
    (part,) = verify_packets(fixtures_dir / "users.tdtp.xml")
    assert part.root_xxh3 is None


def test_users_two_part_split(fixtures_dir: Path, tmp_path: Path) -> None:
    stream = read_packets(fixtures_dir / "users.tdtp.xml")
    sizes = [len("|".join(map(str, row))) + len("<R></R>") for row in USERS_ROWS]
    budget = max(sum(sizes[:4]), sum(sizes[4:]))
    assert budget < min(sum(sizes[i:i + 5]) for i in range(4))
    with PacketWriter(stream.schema, "users", WriteOptions()) as writer:
        envelope = writer.part_size - writer.budget
    paths = write_packets(stream, tmp_path / "U.tdtp.xml", part_size=envelope + budget)
    assert [p.name for p in paths] == ["U.tdtp_part_1_of_2.xml", "U.tdtp_part_2_of_2.xml"]
    assert [inspect_packet(p).header.records_in_part for p in paths] == [4, 4]
    merged = read_packets(paths[1], paths[0])
    assert merged.header.part_number == 1
    assert merged.rows() == list(USERS_ROWS)
    paths[1].unlink()
    with pytest.raises(PacketError):
        read_packets(paths[0]).rows()


def test_users_compress_and_decompress(
    fixtures_dir: Path, tmp_path: Path, zstd_codec: Any
) -> None:
    (path,) = write_packets(read_packets(fixtures_dir / "users.tdtp.xml"),
                            tmp_path / "c.tdtp.xml", compress="zstd")
    info = parse_packet(path)
    assert info.data.compression == "zstd" and info.data.checksum
    assert info.rows is not None and len(info.rows) == 1
    assert read_packets(path).rows() == list(USERS_ROWS)
    path.write_bytes(path.read_bytes().replace(info.data.checksum.encode(), b"0" * 16))
    with pytest.raises(IntegrityError, match="checksum"):
        verify_packets(path)
