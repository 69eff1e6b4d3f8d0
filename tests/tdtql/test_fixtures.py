"""The TDTQL expectations of ``fixtures/EXPECTED.md`` on the shared fixture packets."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tdtp_core import TableStream
from tdtp_core.errors import QueryError
from tdtp_core.tdtql import ExecutionResults, parse

Read = Callable[[str], TableStream]


def run(read: Read, name: str, **kw: object) -> tuple[list[tuple[object, ...]], ExecutionResults]:
    out = parse(**kw).apply(read(name))  # type: ignore[arg-type]
    rows = out.rows()
    assert out.query_context is not None and out.query_context.results is not None
    return rows, out.query_context.results


@pytest.mark.parametrize(("where", "count"), [
    ("ID > 0", 8),
    ("Balance < 0", 0),
    ("City = 'Moscow'", 2),
    ("Balance > 1000", 5),
    ("Balance BETWEEN 1000 AND 2000", 3),
    ("Email LIKE 'john%'", 1),
    ("City IN ('Moscow', 'Omsk')", 4),
])
def test_users_filter_counts(fixture_packet: Read, where: str, count: int) -> None:
    rows, results = run(fixture_packet, "users.tdtp.xml", where=where)
    assert len(rows) == count
    assert (results.total_records, results.matched_records) == (8, count)


def test_users_filtered_rows_hold_what_was_asked(fixture_packet: Read) -> None:
    cities, _ = run(fixture_packet, "users.tdtp.xml", where="City = 'Moscow'")
    assert {r[3] for r in cities} == {"Moscow"}
    rich, _ = run(fixture_packet, "users.tdtp.xml", where="Balance > 1000")
    assert all(r[4] > 1000 for r in rich)  # type: ignore[operator]
    mid, _ = run(fixture_packet, "users.tdtp.xml", where="Balance BETWEEN 1000 AND 2000")
    assert all(1000 <= r[4] <= 2000 for r in mid)  # type: ignore[operator]
    john, _ = run(fixture_packet, "users.tdtp.xml", where="Email LIKE 'john%'")
    assert str(john[0][2]).startswith("john")


@pytest.mark.parametrize("where", ["NoSuchField = 'x'", "INVALID @@@ CLAUSE",
                                   "NoSuchField >>> garbage"])
def test_users_bad_queries(fixture_packet: Read, where: str) -> None:
    with pytest.raises(QueryError):
        run(fixture_packet, "users.tdtp.xml", where=where)


def test_users_filter_keeps_the_schema(fixture_packet: Read) -> None:
    source = fixture_packet("users.tdtp.xml")
    assert parse(where="ID > 0").apply(source).schema == source.schema


@pytest.mark.parametrize(("kw", "expected"), [
    ({"limit": 3}, ExecutionResults(8, 8, 3, True, 3)),
    ({"limit": 3, "offset": 6}, ExecutionResults(8, 8, 2, False)),
    ({"limit": 0}, ExecutionResults(8, 8, 8, False)),
])
def test_users_pagination(fixture_packet: Read, kw: dict[str, int],
                          expected: ExecutionResults) -> None:
    _, results = run(fixture_packet, "users.tdtp.xml", where="ID > 0", **kw)
    assert results == expected


def test_users_pages(fixture_packet: Read) -> None:
    full, _ = run(fixture_packet, "users.tdtp.xml", where="ID > 0")
    page, _ = run(fixture_packet, "users.tdtp.xml", where="ID > 0", limit=3, offset=2)
    tail, _ = run(fixture_packet, "users.tdtp.xml", where="ID > 0", offset=5)
    assert (page, tail) == (full[2:5], full[5:])
    _, matched = run(fixture_packet, "users.tdtp.xml", where="Balance > 1000", limit=2)
    assert matched.matched_records == 5


def test_users_walking_pages_by_next_offset(fixture_packet: Read) -> None:
    full, _ = run(fixture_packet, "users.tdtp.xml", where="ID > 0")
    walked: list[tuple[object, ...]] = []
    offset = 0
    while True:
        rows, results = run(fixture_packet, "users.tdtp.xml", where="ID > 0", limit=3,
                            offset=offset)
        walked += rows
        if not results.more_available:
            break
        offset = results.next_offset
    assert walked == full


@pytest.mark.parametrize(("order_by", "ascending"), [("Balance", True), ("Balance DESC", False)])
def test_users_sort_by_balance(fixture_packet: Read, order_by: str, ascending: bool) -> None:
    rows, _ = run(fixture_packet, "users.tdtp.xml", order_by=order_by)
    balances = [r[4] for r in rows]
    assert balances == sorted(balances, reverse=not ascending)  # type: ignore[type-var]


def test_users_sort_by_name_keeps_all_rows(fixture_packet: Read) -> None:
    rows, _ = run(fixture_packet, "users.tdtp.xml", order_by="Name")
    assert len(rows) == 8


def test_users_sort_by_unknown_field(fixture_packet: Read) -> None:
    with pytest.raises(QueryError):
        run(fixture_packet, "users.tdtp.xml", order_by="NoSuchField")


@pytest.mark.parametrize(("where", "city_empty"), [("City IS NULL", True),
                                                   ("City IS NOT NULL", False)])
def test_users_nullable(fixture_packet: Read, where: str, city_empty: bool) -> None:
    # v1.0 packet without a Null marker: "" is the legacy NULL (spec §2.4)
    rows, _ = run(fixture_packet, "users_nullable.tdtp.xml", where=where)
    assert len(rows) == 2
    assert all((r[2] == "") == city_empty for r in rows)


def test_users_special_values_markers_are_null(fixture_packet: Read) -> None:
    # DECISIONS 10: markers are decoded before comparing (the reference finds 0 rows
    # and fails on the INTEGER cell "[NULL]")
    nulls, _ = run(fixture_packet, "users_special_values.tdtp.xml", where="City IS NULL")
    assert [r[0] for r in nulls] == [1, 3]
    rich, _ = run(fixture_packet, "users_special_values.tdtp.xml", where="Balance > 1000")
    assert [r[0] for r in rich] == [1, 2, 4]


@pytest.mark.parametrize(("where", "count"), [
    ("DeptName = 'Sales'", 3),
    ("DeptName = 'IT'", 2),
    ("DeptName = 'HR'", 1),
    ("Salary > 60000", 2),
    ("Salary >= 60000", 3),
    ("EmpID > ''", 6),
])
def test_dept_emp_compact_counts(fixture_packet: Read, where: str, count: int) -> None:
    rows, _ = run(fixture_packet, "dept_emp_compact.tdtp.xml", where=where)
    assert len(rows) == count


def test_dept_emp_compact_pages(fixture_packet: Read) -> None:
    pages = []
    offset = 0
    while True:
        rows, results = run(fixture_packet, "dept_emp_compact.tdtp.xml", where="EmpID > ''",
                            limit=2, offset=offset)
        assert all(r[0] and r[1] and r[2] for r in rows)  # fixed fields carried forward
        pages.append(rows)
        if not results.more_available:
            break
        offset = results.next_offset
    assert [r[1] for r in pages[1]] == ["Sales", "IT"]
    assert [r[3] for page in pages for r in page] == ["E1", "E2", "E3", "E4", "E5", "E6"]
