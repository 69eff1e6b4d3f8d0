"""Export: pushdown of TDTQL (§12.2, §12.13, tail mode), query context, raw SELECTs."""

from __future__ import annotations

import pytest

from tdtp_core.errors import AdapterError, QueryError
from tdtp_core.tdtql import parse
from tdtp_core.types import Field, Schema
from tests.adapters.adapter_helpers import Db, create, run_sql

MIXED = Schema([Field("UserID", "INTEGER", key=True), Field("Name", "TEXT")])
TEN = [(i, f"n{i}") for i in range(1, 11)]


def test_where_order_and_fields_match_columns_case_insensitively(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, [(1, "b"), (2, "a")], MIXED)
    s = db.adapter.read(t, parse(where="userid >= 1", order_by="name"))
    assert s.schema.names == ["UserID", "Name"]
    assert s.rows() == [(2, "a"), (1, "b")]


def test_text_equality_is_a_bound_comparison_not_a_string_literal(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, [(1, "x"), (2, "y")], MIXED)
    assert db.adapter.read(t, parse(where="name = 'x'")).rows() == [(1, "x")]


def test_like_is_case_sensitive(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, [(1, "abc"), (2, "Abc")], MIXED)
    assert db.adapter.read(t, parse(where="name LIKE 'a%'")).rows() == [(1, "abc")]


def test_unknown_field_fails_before_any_sql(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, TEN)
    with pytest.raises(QueryError, match="nosuch"):
        db.adapter.read(t, parse(where="nosuch = 1"))


def test_limit_and_offset_are_pushed_down(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, TEN)
    s = db.adapter.read(t, parse(order_by="id", limit=3, offset=2))
    assert [r[0] for r in s.rows()] == [3, 4, 5]


def test_negative_limit_returns_the_last_rows_in_order(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, TEN)
    assert [r[0] for r in db.adapter.read(t, parse(limit=-3)).rows()] == [8, 9, 10]


def test_query_context_counts_come_from_the_database(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, TEN)
    s = db.adapter.read(t, parse(where="id > 4", order_by="id", limit=2))
    assert s.query_context is not None and s.query_context.results is not None
    results = s.query_context.results
    assert (results.total_records, results.matched_records) == (10, 6)
    assert (results.returned_records, results.more_available) == (2, True)
    assert len(s.rows()) == 2


def test_read_sql_streams_a_select_with_inferred_types(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, TEN)
    s = db.adapter.read_sql(f"SELECT id, name FROM {t} WHERE id <= 2 ORDER BY id")
    assert [f.type for f in s.schema] == ["INTEGER", "TEXT"]
    assert s.rows() == [(1, "n1"), (2, "n2")]


@pytest.mark.parametrize("sql", ["DELETE FROM x", "SELECT 1; DROP TABLE x",
                                 "UPDATE x SET a = 1"])
def test_read_sql_refuses_anything_but_one_select(sqlite_db: Db, sql: str) -> None:
    with pytest.raises(AdapterError, match="read-only SELECT"):
        sqlite_db.adapter.read_sql(sql)


@pytest.mark.postgres
def test_read_sql_runs_read_only_on_postgres(pg: Db) -> None:
    t = pg.new_table()
    create(pg.adapter, t, TEN)
    run_sql(pg.adapter, f"CREATE OR REPLACE FUNCTION {t}_wipe() RETURNS int LANGUAGE sql "
                        f"AS 'DELETE FROM {t} RETURNING 1'")
    try:
        with pytest.raises(AdapterError, match="read-only"):
            pg.adapter.read_sql(f"SELECT {t}_wipe()").rows()
    finally:
        run_sql(pg.adapter, f"DROP FUNCTION {t}_wipe()")
    assert len(pg.adapter.read(t).rows()) == 10


def test_unknown_table_is_one_line_naming_table_and_database(db: Db) -> None:
    with pytest.raises(AdapterError) as err:
        db.adapter.read("no_such_table_here")
    assert "'no_such_table_here' not found in" in str(err.value)
    assert "\n" not in str(err.value)


def test_views_are_listed_and_readable(db: Db) -> None:
    t = db.new_table()
    view = f"v_{t}"
    create(db.adapter, t, TEN)
    run_sql(db.adapter, f"CREATE VIEW {view} AS SELECT id, name FROM {t} WHERE id < 3")
    try:
        assert view in db.adapter.list_tables(views=True)
        assert view not in db.adapter.list_tables()
        assert db.adapter.inspect(view).is_view
        assert len(db.adapter.read(view).rows()) == 2
    finally:
        run_sql(db.adapter, f"DROP VIEW {view}")
