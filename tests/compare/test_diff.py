"""diff: the spec's example, sort order, keyless tables as multisets, compatible and
incompatible schemas, duplicate and unknown keys, ignored fields and case."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest

from tdtp_core import Field, Schema, TableStream
from tdtp_core.compare import diff
from tdtp_core.errors import ConfigError, SchemaError

USERS = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT"),
                Field("email", "TEXT")])
A_ROWS = [(1, "Alice", "alice@x.io"), (2, "Bob", "bob@x.io"), (3, "Carol", "carol@x.io")]
B_ROWS = [(1, "Alice", "alice@x.io"), (2, "Bob", "bob@y.io"), (4, "Dave", "dave@x.io")]


def table(rows: list[tuple[Any, ...]], schema: Schema = USERS, name: str = "users"
          ) -> TableStream:
    return TableStream.from_rows(schema, rows, table=name, batch_size=2)


SPEC_TEXT = """\
=== Diff Statistics ===
Total in A: 3
Total in B: 3
Added:      1
Removed:    1
Modified:   1
Unchanged:  1

=== Added (1) ===
+ 4 | Dave | dave@x.io

=== Removed (1) ===
- 3 | Carol | carol@x.io

=== Modified (1) ===
~ Key: 2
  [2] email: 'bob@x.io' → 'bob@y.io'"""


def test_spec_example_text() -> None:
    result = diff(table(A_ROWS), table(B_ROWS))
    assert result.text() == SPEC_TEXT
    assert not result.equal


def test_spec_example_json() -> None:
    result = diff(table(A_ROWS), table(B_ROWS))
    assert json.loads(result.to_json()) == {
        "table": "users",
        "key_fields": ["id"],
        "equal": False,
        "stats": {"TotalInA": 3, "TotalInB": 3, "AddedCount": 1, "RemovedCount": 1,
                  "ModifiedCount": 1, "UnchangedCount": 1},
        "added": [{"fields": {"id": "4", "name": "Dave", "email": "dave@x.io"}}],
        "removed": [{"fields": {"id": "3", "name": "Carol", "email": "carol@x.io"}}],
        "modified": [{"key": {"id": "2"},
                      "changes": {"email": {"old": "bob@x.io", "new": "bob@y.io"}}}],
    }


def test_equal_tables() -> None:
    result = diff(table(A_ROWS), table(list(reversed(A_ROWS))))
    assert result.equal and result.unchanged == 3
    assert result.as_dict().keys() == {"table", "key_fields", "equal", "stats"}


def test_output_sorted_by_typed_key_whatever_the_input_order() -> None:
    a = [(i, f"n{i}", f"{i}@a") for i in range(1, 30)]
    b = [(i, f"n{i}", f"{i}@b" if i % 3 == 0 else f"{i}@a") for i in range(5, 40)]
    results = []
    for seed in range(3):
        rnd = random.Random(seed)
        a_shuffled, b_shuffled = a[:], b[:]
        rnd.shuffle(a_shuffled)
        rnd.shuffle(b_shuffled)
        results.append(diff(table(a_shuffled), table(b_shuffled)).to_json())
    assert results[0] == results[1] == results[2]
    parsed = json.loads(results[0])
    assert [r["fields"]["id"] for r in parsed["removed"]] == ["1", "2", "3", "4"]
    assert [r["fields"]["id"] for r in parsed["added"]] == [str(i) for i in range(30, 40)]
    assert [m["key"]["id"] for m in parsed["modified"]] == [str(i) for i in range(6, 30, 3)]


def test_composite_key_and_several_changes() -> None:
    schema = Schema([Field("region", "TEXT", key=True), Field("n", "INTEGER", key=True),
                     Field("a", "TEXT"), Field("b", "DECIMAL", scale=2)])
    result = diff(table([("eu", 1, "x", Decimal("1.00")), ("eu", 2, "y", None)], schema),
                  table([("eu", 1, "X", Decimal("1.50")), ("eu", 2, "y", Decimal("0.00"))],
                        schema))
    assert [(m.key, [(c.index, c.field, c.old, c.new) for c in m.changes])
            for m in result.modified] == [
        ({"region": "eu", "n": "1"}, [(2, "a", "x", "X"), (3, "b", "1.00", "1.50")]),
        ({"region": "eu", "n": "2"}, [(3, "b", None, "0.00")]),
    ]
    assert "~ Key: eu|1" in result.text() and "[3] b: NULL → '0.00'" in result.text()


def test_key_option_overrides_schema_key() -> None:
    result = diff(table(A_ROWS), table([(9, "Alice", "alice@x.io")]), key=["name"])
    assert [m.key for m in result.modified] == [{"name": "Alice"}]
    assert [c.field for c in result.modified[0].changes] == ["id"]


def test_null_and_empty_text_differ_nan_equals_nan() -> None:
    schema = Schema([Field("id", "INTEGER", key=True), Field("t", "TEXT"), Field("r", "REAL")])
    result = diff(table([(1, None, float("nan")), (2, "", 1.0)], schema),
                  table([(1, "", float("nan")), (2, "", 1.0)], schema))
    assert [(m.key, m.changes[0].old, m.changes[0].new) for m in result.modified] == [
        ({"id": "1"}, None, "")]


def test_ignore_fields_and_case() -> None:
    b = [(1, "ALICE", "alice@x.io"), (2, "Bob", "bob@y.io"), (3, "Carol", "carol@x.io")]
    assert len(diff(table(A_ROWS), table(b)).modified) == 2
    assert len(diff(table(A_ROWS), table(b), ignore_case=True).modified) == 1
    assert diff(table(A_ROWS), table(b), ignore=["email"], ignore_case=True).equal


def test_keyless_tables_compare_as_multisets() -> None:
    schema = Schema([Field("a", "TEXT"), Field("n", "INTEGER")])
    a = [("x", 1), ("x", 1), ("y", 2), ("z", 3)]
    b = [("y", 2), ("x", 1), ("y", 2), ("w", 0)]
    result = diff(table(a, schema), table(b, schema))
    assert result.key == []
    assert result.removed == [["x", "1"], ["z", "3"]]
    assert result.added == [["w", "0"], ["y", "2"]]
    assert result.modified == [] and result.unchanged == 2
    assert (result.total_a, result.total_b) == (4, 4)


def test_columns_may_come_in_another_order() -> None:
    other = Schema([Field("email", "TEXT"), Field("id", "INTEGER", key=True),
                    Field("name", "TEXT")])
    b = [(e, i, n) for i, n, e in B_ROWS]
    assert diff(table(A_ROWS), table(b, other)).text() == SPEC_TEXT


def test_compatible_numeric_types_compare_by_value() -> None:
    a_schema = Schema([Field("id", "INTEGER", key=True), Field("v", "DECIMAL", scale=2)])
    b_schema = Schema([Field("id", "DECIMAL", key=True), Field("v", "REAL")])
    result = diff(table([(1, Decimal("5.00")), (2, Decimal("0.10")), (10, Decimal("1.00"))],
                        a_schema),
                  table([(Decimal("1.0"), 5.0), (Decimal(2), 0.1), (Decimal(10), 1.5)],
                        b_schema))
    assert [(m.key, m.changes[0].old, m.changes[0].new) for m in result.modified] == [
        ({"id": "10"}, "1.00", "1.5")]
    assert result.unchanged == 2


def test_timestamp_zones_compare_as_instants() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    a_schema = Schema([Field("id", "INTEGER", key=True), Field("t", "TIMESTAMP",
                                                               timezone="UTC")])
    b_schema = Schema([Field("id", "INTEGER", key=True), Field("t", "DATETIME")])
    plus2 = timezone(timedelta(hours=2))
    result = diff(table([(1, datetime(2024, 1, 1, 12, tzinfo=plus2))], a_schema),
                  table([(1, datetime(2024, 1, 1, 10))], b_schema))
    assert result.equal
    assert datetime(2024, 1, 1, 10, tzinfo=UTC) == datetime(2024, 1, 1, 12, tzinfo=plus2)


@pytest.mark.parametrize(("b_fields", "message"), [
    ([Field("id", "INTEGER", key=True), Field("name", "TEXT")],
     "the tables' fields differ: email only in A"),
    ([Field("id", "INTEGER", key=True), Field("name", "TEXT"), Field("email", "TEXT"),
      Field("age", "INTEGER")], "age only in B"),
    ([Field("id", "TEXT", key=True), Field("name", "TEXT"), Field("email", "INTEGER")],
     "id is INTEGER in A but TEXT in B; email is TEXT in A but INTEGER in B"),
])
def test_schema_mismatch_names_fields(b_fields: list[Field], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        diff(table(A_ROWS), table([], Schema(b_fields)))


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(SchemaError, match=r"key 1 appears twice in A \(rows 1 and 3\)"):
        diff(table([*A_ROWS[:2], A_ROWS[0]]), table(B_ROWS))
    with pytest.raises(SchemaError, match=r"key 4 appears twice in B \(row 4\)"):
        diff(table(A_ROWS), table([*B_ROWS, B_ROWS[2]]))
    with pytest.raises(SchemaError, match="appears twice in B"):
        diff(table(A_ROWS), table([*B_ROWS, B_ROWS[0]]))


def test_unknown_key_or_ignored_field() -> None:
    with pytest.raises(ConfigError, match="key field 'nope' is not in the table"):
        diff(table(A_ROWS), table(B_ROWS), key=["nope"])
    with pytest.raises(ConfigError, match="ignored field 'nope'"):
        diff(table(A_ROWS), table(B_ROWS), ignore=["nope"])


def test_first_table_is_read_twice_through_an_opener() -> None:
    opened: list[int] = []

    def open_a() -> TableStream:
        opened.append(1)
        return table(A_ROWS)

    assert diff(open_a, table(B_ROWS)).text() == SPEC_TEXT
    assert len(opened) == 2
    opened.clear()
    assert diff(open_a, table(A_ROWS)).equal
    assert len(opened) == 1  # nothing differs: no second pass
