"""merge: every strategy on the spec's example, statistics, keyless tables, schema
mismatches and the widening of compatible types."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tdtp_core import Field, Schema, TableStream
from tdtp_core.compare import MergeResult, merge
from tdtp_core.errors import ConfigError, SchemaError

USERS = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])
A = [(1, "Alice"), (2, "Bob"), (3, "Carol")]
B = [(2, "Bobby"), (3, "Carol"), (4, "Dave")]


def table(rows: list[tuple[Any, ...]], schema: Schema = USERS, name: str = "users"
          ) -> TableStream:
    return TableStream.from_rows(schema, rows, table=name, batch_size=2)


def run(*tables: list[tuple[Any, ...]], **options: Any) -> tuple[list[tuple[Any, ...]],
                                                                  MergeResult]:
    result = merge([table(t) for t in tables], **options)
    return result.stream.rows(), result


def test_union_keeps_first_occurrence() -> None:
    rows, result = run(A, B)
    assert rows == [(1, "Alice"), (2, "Bob"), (3, "Carol"), (4, "Dave")]
    stats = result.stats
    assert (stats.rows_in, stats.rows_out, stats.duplicates, stats.conflicts) == (6, 4, 2, 1)
    assert stats.conflict_keys == ["2"]
    assert result.stream.table == "users" and result.stream.schema == USERS


def test_union_report() -> None:
    _, result = run(A, B)
    assert result.stats.text() == """\
=== Merge Statistics ===
Packets merged: 2
Total rows in:  6
Total rows out: 4
Duplicates:     2
Conflicts:      1

=== Conflicts ===
Key 2: kept_existing"""


@pytest.mark.parametrize("name", ["left-wins", "left", "LEFT-PRIORITY", "left_priority"])
def test_left_wins(name: str) -> None:
    rows, result = run(A, B, strategy=name)
    assert rows == [(1, "Alice"), (2, "Bob"), (3, "Carol"), (4, "Dave")]
    assert result.stats.strategy == "left-wins"


@pytest.mark.parametrize("name", ["right-wins", "right", "right-priority"])
def test_right_wins(name: str) -> None:
    rows, result = run(A, B, strategy=name)
    assert rows == [(1, "Alice"), (2, "Bobby"), (3, "Carol"), (4, "Dave")]
    assert (result.stats.duplicates, result.stats.conflicts) == (2, 1)
    assert "Key 2: used_new" in result.stats.text()


def test_right_wins_places_rows_where_the_winner_stands() -> None:
    rows, _ = run([(1, "a"), (2, "b"), (3, "c")], [(1, "A")], strategy="right-wins")
    assert rows == [(2, "b"), (3, "c"), (1, "A")]


def test_right_wins_with_duplicates_inside_one_table() -> None:
    rows, result = run([(1, "a"), (1, "b")], [(2, "x")], strategy="right-wins")
    assert rows == [(1, "b"), (2, "x")]
    assert (result.stats.duplicates, result.stats.conflicts) == (1, 1)


@pytest.mark.parametrize("name", ["intersection", "intersect"])
def test_intersection(name: str) -> None:
    rows, result = run(A, B, strategy=name)
    assert rows == [(2, "Bob"), (3, "Carol")]
    assert result.stats.rows_in == 6


def test_intersection_counts_tables_not_rows() -> None:
    # Key 1 twice in the second table but absent from the third: not in every table.
    rows, _ = run([(1, "a"), (2, "b")], [(1, "x"), (1, "y"), (2, "z")], [(2, "q")],
                  strategy="intersection")
    assert rows == [(2, "b")]


def test_append_keeps_every_row_and_needs_no_key() -> None:
    schema = Schema([Field("v", "TEXT")])
    result = merge([table([("a",), ("b",)], schema), table([("a",)], schema)],
                   strategy="append")
    assert result.stream.rows() == [("a",), ("b",), ("a",)]
    assert (result.stats.rows_in, result.stats.rows_out, result.stats.duplicates) == (3, 3, 0)


def test_single_table() -> None:
    rows, result = run(A)
    assert rows == A and result.stats.inputs == 1


def test_identical_repeats_are_duplicates_not_conflicts() -> None:
    _, result = run(A, A)
    assert (result.stats.duplicates, result.stats.conflicts) == (3, 0)


def test_many_conflicts_report_first_ten() -> None:
    _, result = run([(i, "a") for i in range(15)], [(i, "b") for i in range(15)])
    text = result.stats.text()
    assert "=== Conflicts (15 total, showing first 10) ===" in text
    assert text.count("kept_existing") == 10


def test_keyless_tables_need_a_key() -> None:
    schema = Schema([Field("id", "INTEGER"), Field("v", "TEXT")])
    with pytest.raises(ConfigError, match="needs key fields"):
        merge([table([(1, "a")], schema), table([(1, "b")], schema)])
    result = merge([table([(1, "a")], schema), table([(1, "b")], schema)], key=["id"],
                   strategy="right-wins")
    assert result.stream.rows() == [(1, "b")]


def test_unknown_strategy_and_key() -> None:
    with pytest.raises(ConfigError, match="unknown merge strategy 'both'"):
        merge([table(A)], strategy="both")
    with pytest.raises(ConfigError, match="key field 'nope'"):
        merge([table(A), table(B)], key=["nope"])
    with pytest.raises(ConfigError, match="no tables"):
        merge([])


def test_schema_mismatch_names_the_fields() -> None:
    other = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT"),
                    Field("email", "TEXT")])
    with pytest.raises(SchemaError, match=r"email only in b\.xml"):
        merge([table(A), table([], other)], labels=["a.xml", "b.xml"])
    wrong = Schema([Field("id", "INTEGER", key=True), Field("name", "BOOLEAN")])
    with pytest.raises(SchemaError, match="name is TEXT in input 1 but BOOLEAN in input 2"):
        merge([table(A), table([], wrong)])


def test_columns_in_another_order_are_lined_up() -> None:
    other = Schema([Field("name", "TEXT"), Field("id", "INTEGER", key=True)])
    result = merge([table(A), table([("Eve", 5)], other)])
    assert result.stream.rows()[-1] == (5, "Eve")


def test_compatible_types_widen() -> None:
    first = Schema([Field("id", "INTEGER", key=True), Field("amount", "INTEGER"),
                    Field("at", "TIMESTAMP"), Field("note", "TEXT", length=5)])
    second = Schema([Field("id", "DECIMAL", precision=10, scale=0, key=True),
                     Field("amount", "DECIMAL", precision=8, scale=2),
                     Field("at", "DATETIME", timezone="UTC"), Field("note", "TEXT", length=9)])
    result = merge([
        table([(1, 10, datetime(2024, 1, 1), "a")], first),
        table([(Decimal(1), Decimal("10.00"), datetime(2024, 1, 1, tzinfo=UTC), "a"),
               (Decimal(2), Decimal("2.50"), None, "bb")], second),
    ])
    assert [(f.type, f.precision, f.scale, f.timezone, f.length, f.key)
            for f in result.stream.schema] == [
        ("DECIMAL", 19, 0, None, None, True), ("DECIMAL", 21, 2, None, None, False),
        ("TIMESTAMP", None, None, "UTC", None, False), ("TEXT", None, None, None, 9, False)]
    assert result.stream.rows() == [
        (Decimal(1), Decimal(10), datetime(2024, 1, 1, tzinfo=UTC), "a"),
        (Decimal(2), Decimal("2.50"), None, "bb"),
    ]
    assert result.stats.conflicts == 0  # 10 and 10.00 are one value


def test_int_and_real_widen_to_real() -> None:
    first = Schema([Field("id", "INTEGER", key=True), Field("x", "INTEGER")])
    second = Schema([Field("id", "INTEGER", key=True), Field("x", "REAL")])
    result = merge([table([(1, 2)], first), table([(2, 2.5)], second)])
    assert result.stream.schema[1].type == "REAL"
    assert result.stream.rows() == [(1, 2.0), (2, 2.5)]


def test_merged_stream_is_lazy_and_stats_fill_as_read() -> None:
    result = merge([table(A), table(B)], batch_size=2)
    assert result.stats.rows_in == 0
    batches = result.stream.batches()
    next(batches)
    assert 0 < result.stats.rows_in < 6
    list(batches)
    assert result.stats.rows_out == 4
