"""In-memory execution: SQL semantics (DECISIONS 10), sorting, paging, counts, streaming."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tdtp_core import Field, Schema, SpecialValues, TableStream
from tdtp_core.errors import QueryError
from tdtp_core.stream import Batch
from tdtp_core.tdtql import ExecutionResults, Filter, Group, OrderItem, Query, parse

from .conftest import PEOPLE, PEOPLE_ROWS, ids, people

Run = Callable[..., list[int]]


# --------------------------------------------------------------- typed comparisons


@pytest.mark.parametrize(("where", "expected"), [
    ("balance = 1500.5", [1, 5]),            # DECIMAL compares by value: 1500.50 = 1500.5
    ("balance > 1000", [1, 5]),
    ("balance <= '7'", [4, 6]),              # literal kind does not matter, the field's does
    ("balance != 20", [1, 4, 5, 6]),         # NULL balance (3) is unknown, not "different"
    ("id >= 5", [5, 6]),
    ("id < 2", [1]),
    ("score = 0", [5]),                       # -0.0 = 0
    ("score = '+Inf'", [4]),
    ("score > 0", [1, 4, 6]),                 # NULL and NaN excluded
    ("active = 1", [1, 3, 5]),
    ("active = 'true'", [1, 3, 5]),
    ("active < 1", [2, 6]),
    ("born < '1990-01-01'", [2, 6]),
    ("born = '1990-01-02T23:00:00+05:00'", [1, 5]),  # a date-time literal keeps its date
    ("name = ''", [5]),
    ("name > 'a'", [2, 6]),                   # code-point order: 'A' < 'O' < 'a'
    ("CITY = 'Rome'", [5]),                   # field names ignore case
])
def test_comparison(run: Run, where: str, expected: list[int]) -> None:
    assert run(where) == expected


@pytest.mark.parametrize("where", [
    "score = 'NaN'", "score != 'NaN'", "score < 'NaN'", "score IN ('NaN')",
    "score NOT IN ('NaN', 1)",
])
def test_nan_equals_and_orders_nothing(run: Run, where: str) -> None:
    assert run(where) == []


def test_nan_value_is_unknown_for_not_equal(run: Run) -> None:
    assert 3 not in run("score != 1.5")


@pytest.mark.parametrize("where", ["balance > ''", "balance = ''", "balance != ''",
                                   "balance BETWEEN '' AND 5", "born < '0000-00-00'"])
def test_null_literal_makes_every_comparison_unknown(run: Run, where: str) -> None:
    assert run(where) == []


@pytest.mark.parametrize(("where", "expected"), [
    ("id IN (1, 3, 99)", [1, 3]),
    ("id NOT IN (1, 3)", [2, 4, 5, 6]),
    ("id NOT IN (1, '1')", [2, 3, 4, 5, 6]),  # duplicates are not NULLs
    ("balance IN (20, '')", [2]),           # x IN (…, NULL): true only on a match
    ("balance NOT IN (20, '')", []),        # x NOT IN (…, NULL) is never true
    ("city IN ('paris')", [4]),
    ("city NOT IN ('paris')", [1, 2, 5, 6]),  # NULL city (3) excluded
    ("balance IN ('1500.500')", [1, 5]),
])
def test_in_lists(run: Run, where: str, expected: list[int]) -> None:
    assert run(where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("born BETWEEN '1990-01-01' AND '2000-01-01'", [1, 5]),
    ("born NOT BETWEEN '1990-01-01' AND '2000-01-01'", [2, 4, 6]),
    ("balance BETWEEN 7 AND 20", [2, 6]),       # inclusive at both ends
    ("balance BETWEEN 20 AND 7", []),
])
def test_between(run: Run, where: str, expected: list[int]) -> None:
    assert run(where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("city LIKE 'P%'", [1]),                  # case-sensitive
    ("city LIKE '%aris'", [1, 4]),
    ("city NOT LIKE 'P%'", [2, 4, 5, 6]),     # NULL excluded
    ("city LIKE '_slo'", [6]),
    ("city LIKE 'Rom'", []),                  # the whole string must match
    ("name LIKE 'line%'", [6]),               # % spans a newline
    ("name LIKE 'line_break'", [6]),          # _ matches a newline
    ("name LIKE 'O''B%'", [3]),
    ("name LIKE 'A.n'", []),                  # regex characters are literal
    ("name LIKE '%'", [1, 2, 3, 4, 5, 6]),
    ("born LIKE '1990-%'", [1, 5]),            # DATE matches its cell text
    ("id LIKE '_'", [1, 2, 3, 4, 5, 6]),      # so does INTEGER
    ("active LIKE '1'", [1, 3, 5]),           # and BOOLEAN: 1/0
])
def test_like(run: Run, where: str, expected: list[int]) -> None:
    assert run(where) == expected


@pytest.mark.parametrize("where", ["balance LIKE '1500%'", "score NOT LIKE '1%'"])
def test_like_on_a_number_is_refused(run: Run, where: str) -> None:
    """Its text differs between databases and packets (DECIMAL 1500.5 in SQLite)."""
    with pytest.raises(QueryError, match=r"LIKE cannot match field '(balance|score)' \(a number\)"):
        run(where)


def test_like_on_a_timestamp_is_refused() -> None:
    stream = TableStream.from_rows(Schema([Field("t", "TIMESTAMP")]), [], table="t")
    with pytest.raises(QueryError, match=r"LIKE cannot match field 't' \(a date-time\)"):
        parse(where="t LIKE '2025%'").apply(stream).rows()


@pytest.mark.parametrize(("where", "expected"), [
    ("city IS NULL", [3]),
    ("city IS NOT NULL", [1, 2, 4, 5, 6]),
    ("name IS NULL", []),                      # "" is not NULL outside legacy packets
    ("score IS NULL", [2]),                    # NaN is a value
    ("born IS NULL", [3]),
])
def test_is_null(run: Run, where: str, expected: list[int]) -> None:
    assert run(where) == expected


# ------------------------------------------------------------ NOT and 3-valued logic


@pytest.mark.parametrize(("where", "expected"), [
    ("NOT (city = 'Paris' OR balance > 100)", [2, 4, 6]),   # row 3 is unknown both ways
    ("NOT city = 'Paris'", [2, 4, 5, 6]),
    ("NOT (city LIKE 'P%' AND balance > 0)", [2, 4, 5, 6]),
    ("NOT active = 1", [2, 6]),                              # NULL active (4) stays out
    ("NOT (score >= 2 OR score < 1)", [1]),                  # NaN (3) and NULL (2) out
    ("NOT id NOT IN (1, 2)", [1, 2]),
])
def test_not_keeps_unknown_unknown(run: Run, where: str, expected: list[int]) -> None:
    assert run(where) == expected


@pytest.mark.parametrize("where", [
    "city = 'Paris'", "balance > 100", "score < 2", "born BETWEEN '1980-01-01' AND '1995-01-01'",
    "name LIKE '%n'", "active IN (1)", "city = 'Paris' OR balance > 100",
])
def test_a_condition_and_its_negation_never_overlap(run: Run, where: str) -> None:
    kept, negated = run(where), run(f"NOT ({where})")
    assert not set(kept) & set(negated)


def test_or_of_an_unknown_and_a_true_is_true(run: Run) -> None:
    assert run("city = 'x' OR id = 3") == [3]


def test_empty_groups_from_xml() -> None:
    assert ids(Query(filters=Group("And")).apply(people())) == [1, 2, 3, 4, 5, 6]
    assert ids(Query(filters=Group("Or")).apply(people())) == []
    assert ids(Query(filters=Group("And", (), (Group("Or"),))).apply(people())) == []


def test_symbolic_operator_from_hand_written_xml() -> None:
    query = Query(filters=Group("And", (Filter("id", ">=", "5"),)))
    assert ids(query.apply(people())) == [5, 6]


# ----------------------------------------------------------------------- errors


def test_unknown_field_is_named() -> None:
    with pytest.raises(QueryError, match="field 'nope' not found in schema"):
        parse(where="nope = 1").apply(people())


def test_unknown_operator_is_named() -> None:
    with pytest.raises(QueryError, match="unknown operator 'matches'"):
        Query(filters=Group("And", (Filter("id", "matches", "1"),))).apply(people())


def test_literal_that_does_not_fit_the_field() -> None:
    with pytest.raises(QueryError, match=r"field 'balance'.*'abc'"):
        parse(where="balance > 'abc'").apply(people())


def test_errors_are_raised_before_any_row_is_read() -> None:
    def batches() -> Iterator[Batch]:
        raise AssertionError("read")
        yield []

    with pytest.raises(QueryError):
        parse(where="nope = 1").apply(TableStream(PEOPLE, batches()))


def test_values_that_cannot_be_compared() -> None:
    schema = Schema([Field("t", "TEXT")])
    stream = TableStream.from_rows(schema, [("a",), (5,)], table="t")
    with pytest.raises(QueryError, match="cannot be compared"):
        parse(where="t > 'a'").apply(stream).rows()


# ---------------------------------------------------------------------- sorting


@pytest.mark.parametrize(("order_by", "expected"), [
    ("balance", [3, 4, 6, 2, 1, 5]),          # NULL first; ties keep input order
    ("balance DESC", [1, 5, 2, 6, 4, 3]),     # NULL last; ties keep input order
    ("score", [2, 5, 1, 6, 4, 3]),            # NULL first, NaN after +inf
    ("score desc", [3, 4, 6, 1, 5, 2]),
    ("name, id DESC", [5, 4, 1, 3, 2, 6]),    # code-point order of text
    ("born", [3, 6, 2, 1, 5, 4]),
    ("active, id", [4, 2, 6, 1, 3, 5]),
    ("City", [3, 2, 6, 1, 5, 4]),
])
def test_order_by(run: Run, order_by: str, expected: list[int]) -> None:
    assert run(order_by=order_by) == expected


def test_sort_by_unknown_field() -> None:
    with pytest.raises(QueryError, match="field 'nope'"):
        parse(order_by="nope").apply(people())


def test_filter_and_sort(run: Run) -> None:
    assert run("balance > 0", order_by="balance DESC, id DESC") == [5, 1, 2, 6]


# --------------------------------------------------------------------- paging


def results(query: Query) -> tuple[list[int], ExecutionResults | None]:
    out = query.apply(people())
    kept = ids(out)
    assert out.query_context is not None
    return kept, out.query_context.results


@pytest.mark.parametrize(("kw", "expected_ids", "expected"), [
    ({"limit": 2}, [1, 2], ExecutionResults(6, 6, 2, True, 2)),
    ({"limit": 2, "offset": 5}, [6], ExecutionResults(6, 6, 1, False)),
    ({"limit": 2, "offset": 4}, [5, 6], ExecutionResults(6, 6, 2, False)),
    ({"offset": 10}, [], ExecutionResults(6, 6, 0, False)),
    ({"limit": -2}, [5, 6], ExecutionResults(6, 6, 2, False)),
    ({"limit": -2, "offset": 5}, [6], ExecutionResults(6, 6, 1, False)),
    ({"limit": -10}, [1, 2, 3, 4, 5, 6], ExecutionResults(6, 6, 6, False)),
    ({"where": "balance > 0", "limit": 1}, [1], ExecutionResults(6, 4, 1, True, 1)),
    ({"where": "balance > 0", "order_by": "balance", "limit": -2}, [1, 5],
     ExecutionResults(6, 4, 2, False)),
    ({"where": "balance > 0", "order_by": "balance", "limit": 2, "offset": 1}, [2, 1],
     ExecutionResults(6, 4, 2, True, 3)),
    ({"where": "id < 0"}, [], ExecutionResults(6, 0, 0, False)),
])
def test_paging_and_counts(kw: dict[str, object], expected_ids: list[int],
                           expected: ExecutionResults) -> None:
    assert results(parse(**kw)) == (expected_ids, expected)  # type: ignore[arg-type]


def test_results_are_filled_when_the_stream_ends() -> None:
    out = parse(where="id > 1").apply(people())
    assert out.query_context is not None
    assert out.query_context.results is None
    assert out.query_context.original_query == parse(where="id > 1")
    out.rows()
    assert out.query_context.results == ExecutionResults(6, 5, 5, False)


def test_filtering_streams_batch_by_batch() -> None:
    pulled = []

    def batches() -> Iterator[Batch]:
        for i in range(0, len(PEOPLE_ROWS), 2):
            pulled.append(i)
            yield PEOPLE_ROWS[i : i + 2]

    out = parse(where="id > 0").apply(TableStream(PEOPLE, batches(), table="people"))
    first = next(out.batches())
    assert [r[0] for r in first] == [1, 2]
    assert pulled == [0]


def test_rows_after_the_limit_are_still_counted() -> None:
    out = parse(where="id != 2", limit=1).apply(people(batch_size=1))
    assert [len(b) for b in out.batches()] == [1]
    assert out.query_context is not None
    assert out.query_context.results == ExecutionResults(6, 5, 1, True, 1)


def test_projection() -> None:
    out = Query(fields=("NAME", "id")).apply(people())
    assert out.schema.names == ["name", "id"]
    assert out.rows()[:2] == [("Ann", 1), ("bob", 2)]


def test_result_keeps_schema_and_table() -> None:
    out = parse(where="id = 1").apply(people())
    assert (out.schema, out.table) == (PEOPLE, "people")


# ----------------------------------------------------- packets' ambiguous empty text


def packet_stream(null_marker: str | None, version: str = "1.0") -> TableStream:
    """A stream as read from a packet of ``version`` whose TEXT field ``city`` declares
    ``null_marker`` (or none)."""
    schema = Schema([Field("id", "INTEGER"), Field("city", "TEXT")])
    special = SpecialValues(null=null_marker) if null_marker else None
    packet_schema = Schema([Field("id", "INTEGER"),
                            Field("city", "TEXT", special_values=special)])
    rows = [(1, ""), (2, None), (3, "Oslo"), (4, "")]
    stream = TableStream.from_rows(schema, rows, table="t")
    stream.metadata.update(packet_schema=packet_schema, version=version)
    return stream


def test_legacy_packet_empty_text_is_null() -> None:
    assert ids(parse(where="city IS NULL").apply(packet_stream(None))) == [1, 2, 4]


def test_legacy_packet_empty_text_is_not_not_null() -> None:
    assert ids(parse(where="city IS NOT NULL").apply(packet_stream(None))) == [3]


@pytest.mark.parametrize("where", [
    "city = ''", "city <= ''", "city LIKE ''", "city IN ('', 'Oslo') AND id != 3",
    "city NOT IN ('x')  AND id != 3", "city BETWEEN '' AND 'A'", "city != 'Oslo'",
    "NOT city LIKE 'O%'",
])
def test_legacy_packet_empty_text_is_never_also_a_value(where: str) -> None:
    """A row that IS NULL matches no comparison, as in SQL."""
    assert ids(parse(where=where).apply(packet_stream(None))) == []


def test_legacy_packet_empty_text_sorts_with_the_nulls() -> None:
    out = parse(order_by="city DESC, id DESC").apply(packet_stream(None))
    assert ids(out) == [3, 4, 2, 1]


@pytest.mark.parametrize("version", ["1.3.1", "1.4", "1.10"])
def test_newer_packet_without_marker_keeps_empty_text(version: str) -> None:
    """v1.3.1 brought Null markers: from there on ``""`` is the empty string."""
    assert ids(parse(where="city IS NULL").apply(packet_stream(None, version))) == [2]
    assert ids(parse(where="city = ''").apply(packet_stream(None, version))) == [1, 4]


def test_with_null_marker_empty_text_is_a_value() -> None:
    assert ids(parse(where="city IS NULL").apply(packet_stream("[NULL]"))) == [2]
    assert ids(parse(where="city IS NOT NULL").apply(packet_stream("[NULL]"))) == [1, 3, 4]


def test_legacy_key_text_field_keeps_empty_text() -> None:
    """A key cannot be NULL, so its empty cell is text even in a legacy packet."""
    schema = Schema([Field("code", "TEXT", key=True)])
    stream = TableStream.from_rows(schema, [("",), ("a",)], table="t")
    stream.metadata.update(packet_schema=schema, version="1.0")
    assert parse(where="code = ''").apply(stream).rows() == [("",)]


def test_legacy_field_found_by_name_after_a_projection() -> None:
    projected = Query(fields=("city",)).apply(packet_stream(None))
    assert parse(where="city IS NULL").apply(projected).rows() == [("",), (None,), ("",)]


def test_marker_text_in_a_literal_is_just_text() -> None:
    schema = Schema([Field("c", "TEXT", special_values=SpecialValues(null="[NULL]"))])
    stream = TableStream.from_rows(schema, [("[NULL]",), (None,)], table="t")
    assert parse(where="c = '[NULL]'").apply(stream).rows() == [("[NULL]",)]


def test_aware_timestamps_compare_by_instant() -> None:
    schema = Schema([Field("t", "TIMESTAMP", timezone="UTC")])
    rows = [(datetime(2025, 1, 1, 10, tzinfo=UTC),),
            (datetime(2025, 1, 1, 12, tzinfo=UTC),)]
    stream = TableStream.from_rows(schema, rows, table="t")
    kept = parse(where="t > '2025-01-01T12:30:00+01:00'").apply(stream).rows()
    assert kept == [rows[1]]


def test_order_item_direction_text() -> None:
    assert (OrderItem("a").direction, OrderItem("a", True).direction) == ("ASC", "DESC")
