"""SQL pushdown: compiles on every dialect, binds every value, agrees with memory."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import False_

from tdtp_core import Field, Schema, TableStream
from tdtp_core.errors import QueryError
from tdtp_core.tdtql import Filter, Group, Query, parse
from tdtp_core.tdtql.sql import field_for_column, like_pattern

from .conftest import sqlite_engine


def modern_mssql() -> Dialect:
    dialect = mssql.dialect()
    dialect.server_version_info = (16, 0)
    dialect._setup_version_attributes()  # type: ignore[attr-defined]
    return dialect


DIALECTS = {
    "sqlite": sqlite.dialect,
    "postgresql": postgresql.dialect,
    "mysql": mysql.dialect,
    "mariadb": lambda: mysql.dialect(is_mariadb=True),
    "mssql-legacy": mssql.dialect,
    "mssql": modern_mssql,
}

METADATA = sa.MetaData()
ITEMS = sa.Table(
    "items", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(60)),
    sa.Column("city", sa.String(30)),
    sa.Column("balance", sa.Numeric(12, 2)),
    sa.Column("score", sa.Float),
    sa.Column("active", sa.Boolean),
    sa.Column("born", sa.Date),
)

ITEMS_SCHEMA = Schema([
    Field("id", "INTEGER", key=True), Field("name", "TEXT"), Field("city", "TEXT"),
    Field("balance", "DECIMAL", precision=12, scale=2), Field("score", "REAL"),
    Field("active", "BOOLEAN"), Field("born", "DATE"),
])

ITEMS_ROWS: list[tuple[Any, ...]] = [
    (1, "Ann", "Paris", Decimal("1500.50"), 1.5, True, date(1990, 1, 2)),
    (2, "bob", "Berlin", Decimal("20.00"), None, False, date(1985, 6, 30)),
    (3, "O'Brien", None, None, 3.25, True, None),
    (4, "Ann", "paris", Decimal("-3.10"), -2.0, None, date(2001, 12, 31)),
    (5, "", "Rome", Decimal("1500.50"), 0.0, True, date(1990, 1, 2)),
    (6, "a%b_c[d]/e\\f", "Oslo", Decimal("7.00"), 2.0, False, date(1970, 1, 1)),
    (7, "Ann ", "Ørsta", Decimal("0.50"), 0.5, True, date(1999, 9, 9)),
    (8, "Émile", "Zug", Decimal("-0.50"), None, None, None),
]


def compiled(query: Query, dialect: Dialect, select: Any = None) -> Any:
    select = sa.select(ITEMS) if select is None else select
    return query.to_sqlalchemy(ITEMS).apply(select).compile(dialect=dialect)


# ----------------------------------------------------------------- compilation

EVERYTHING = parse(
    where="name LIKE 'a[%' AND NOT (balance BETWEEN 1 AND 20.5) AND id IN (1, 2) "
          "AND city NOT LIKE '%x' AND born > '2020-01-01' AND active = 1 "
          "AND score IS NOT NULL AND city NOT IN ('a', 'b')",
    order_by="city desc, id",
)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("paging", [{}, {"limit": 5}, {"offset": 3}, {"limit": 5, "offset": 3},
                                    {"limit": -5}, {"limit": -5, "offset": 3}])
def test_compiles_on_every_dialect(dialect: str, paging: dict[str, int]) -> None:
    query = Query(EVERYTHING.filters, EVERYTHING.order_by, **paging)
    sql = str(compiled(query, DIALECTS[dialect]()))
    assert "FROM items" in sql


@pytest.mark.parametrize("dialect", ["mssql", "mssql-legacy"])
@pytest.mark.parametrize("paging", [{"offset": 3}, {"limit": -2}])
def test_mssql_paging_without_order_by_orders_by_the_key(dialect: str,
                                                         paging: dict[str, int]) -> None:
    sql = str(compiled(parse(**paging), DIALECTS[dialect]()))  # type: ignore[arg-type]
    assert re.search(r"ORDER BY \w+\.id", sql)


def test_values_are_bound_parameters() -> None:
    query = parse(where="name = 'zz-secret' AND balance > 12.34 AND born < '2001-02-03'")
    result = compiled(query, postgresql.dialect())
    sql = str(result)
    for text in ("zz-secret", "12.34", "2001"):
        assert text not in sql
    assert set(result.params.values()) == {"zz-secret", Decimal("12.34"), date(2001, 2, 3)}


def test_literals_are_typed_by_the_column() -> None:
    params = compiled(parse(where="id = '7' AND active = 'true'"), sqlite.dialect()).params
    assert sorted(params.values(), key=str) == [7, True]


def test_schema_types_the_literals_when_given() -> None:
    text_only = sa.Table("t", sa.MetaData(), sa.Column("n", sa.String))
    pushdown = parse(where="n > 5").to_sqlalchemy(text_only, schema=Schema([Field("n", "INTEGER")]))
    assert pushdown.where is not None
    assert list(pushdown.where.compile().params.values()) == [5]


def test_unknown_column_is_named() -> None:
    with pytest.raises(QueryError, match="field 'nope' not found"):
        parse(where="nope = 1").to_sqlalchemy(ITEMS)


def test_field_names_ignore_case() -> None:
    assert "items.city" in str(compiled(parse(where="CITY = 'x'", order_by="Id"),
                                        sqlite.dialect()))


def test_like_pattern_escapes_only_what_sql_would_read() -> None:
    assert like_pattern("a%b_c[d]/e\\f") == "a%b_c/[d]//e\\f"


@pytest.mark.parametrize(("dialect", "text"), [
    ("mysql", "CONVERT(items.name USING utf8mb4) COLLATE utf8mb4_bin LIKE"),
    ("mssql", "items.name COLLATE Latin1_General_BIN2 LIKE"),
    ("postgresql", "items.name LIKE"),
    ("sqlite", "items.name LIKE"),
])
def test_like_is_case_sensitive_per_dialect(dialect: str, text: str) -> None:
    sql = str(compiled(parse(where="name LIKE 'a%'"), DIALECTS[dialect]()))
    assert text in sql and "ESCAPE '/'" in sql


@pytest.mark.parametrize(("dialect", "text"), [
    ("sqlite", "(items.city COLLATE BINARY = ?)"),
    ("postgresql", "(items.city = %(param_1)s::VARCHAR)"),
    ("mysql", "(items.city = %s AND CAST(CONVERT(items.city USING utf8mb4) AS BINARY) = "
              "CAST(CONVERT(%s USING utf8mb4) AS BINARY))"),
    ("mssql", "(items.city = :param_1 AND items.city COLLATE Latin1_General_BIN2 = :param_1 "
              "AND LEN(items.city + N'.') = LEN(:param_1 + N'.'))"),
])
def test_text_equality_is_exact_per_dialect(dialect: str, text: str) -> None:
    """Case and trailing spaces count; the plain comparison stays first for an index."""
    sql = str(compiled(parse(where="city = 'x'"), DIALECTS[dialect]()))
    assert f"WHERE {text}" in sql


@pytest.mark.parametrize(("dialect", "text"), [
    ("postgresql", '(items.city COLLATE "C" < %(param_1)s::VARCHAR)'),
    ("mysql", "(CAST(CONVERT(items.city USING utf8mb4) AS BINARY) < "
              "CAST(CONVERT(%s USING utf8mb4) AS BINARY))"),
    ("mssql", "(items.city COLLATE Latin1_General_BIN2 < :param_1 OR "
              "(items.city COLLATE Latin1_General_BIN2 = :param_1 AND "
              "LEN(items.city + N'.') < LEN(:param_1 + N'.')))"),
])
def test_text_order_is_by_code_point_per_dialect(dialect: str, text: str) -> None:
    sql = str(compiled(parse(where="city < 'x'"), DIALECTS[dialect]()))
    assert f"WHERE {text}" in sql


def test_mssql_sort_breaks_padded_ties_by_length() -> None:
    sql = str(compiled(parse(order_by="city desc"), DIALECTS["mssql"]()))
    assert sql.endswith("ORDER BY items.city COLLATE Latin1_General_BIN2 DESC, "
                        "LEN(items.city + N'.') DESC")


@pytest.mark.parametrize("dialect", ["mssql", "mysql", "sqlite"])
def test_text_conditions_are_not_compared_with_one(dialect: str) -> None:
    """``(a AND b) = 1`` is no SQL on SQL Server."""
    sql = str(compiled(parse(where="city = 'x' AND name IN ('a') AND name NOT BETWEEN 'a' AND 'b'"),
                       DIALECTS[dialect]()))
    assert ") = 1" not in sql


@pytest.mark.parametrize("where", ["balance LIKE '%.50'", "score NOT LIKE '1%'"])
def test_like_on_a_number_is_refused_as_in_memory(where: str) -> None:
    refusal = r"LIKE cannot match field '\w+' \(a number\)"
    with pytest.raises(QueryError, match=refusal):
        parse(where=where).to_sqlalchemy(ITEMS)
    with pytest.raises(QueryError, match=refusal):
        in_memory(parse(where=where))


@pytest.mark.parametrize(("dialect", "asc", "desc"), [
    ("postgresql", 'items.city COLLATE "C" ASC NULLS FIRST', "items.id DESC NULLS LAST"),
    ("sqlite", "items.city COLLATE BINARY ASC", "items.id DESC"),
    ("mysql", "CAST(CONVERT(items.city USING utf8mb4) AS BINARY) ASC", "items.id DESC"),
])
def test_nulls_sort_first_ascending_everywhere(dialect: str, asc: str, desc: str) -> None:
    sql = str(compiled(parse(order_by="city, id desc"), DIALECTS[dialect]()))
    assert f"ORDER BY {asc}, {desc}" in sql


def test_unknown_literals_compile_to_false() -> None:
    pushdown = parse(where="balance > '' OR score = 'NaN'").to_sqlalchemy(ITEMS)
    assert isinstance(pushdown.where, False_)


def test_where_that_is_always_true_is_left_out() -> None:
    assert Query(filters=Group("And")).to_sqlalchemy(ITEMS).where is None


def test_field_types_from_columns() -> None:
    table = sa.Table("k", sa.MetaData(), sa.Column("b", sa.Boolean), sa.Column("f", sa.Float),
                     sa.Column("d", sa.Numeric(9, 3)), sa.Column("ts", sa.DateTime(timezone=True)),
                     sa.Column("t", sa.Time), sa.Column("bl", sa.LargeBinary),
                     sa.Column("u", sa.Uuid))
    kinds = [(f.kind, f.precision, f.scale, f.timezone, f.subtype)
             for f in map(field_for_column, table.columns)]
    assert kinds == [("BOOLEAN", None, None, None, None), ("REAL", None, None, None, None),
                     ("DECIMAL", 9, 3, None, None), ("TIMESTAMP", None, None, "UTC", None),
                     ("TIMESTAMP", None, None, None, "time"), ("BLOB", None, None, None, None),
                     ("TEXT", None, None, None, None)]


# ------------------------------------------------- executing: memory == database

AGREEMENT = [
    {"where": "balance = 1500.5"},
    {"where": "balance != 20"},
    {"where": "NOT (city = 'Rome' OR balance > 100)"},
    {"where": "city LIKE 'P%'"},
    {"where": "city NOT LIKE 'p%'"},
    {"where": "city LIKE '%aris'"},
    {"where": "name LIKE 'a%b_c[d]/e\\f'"},
    {"where": "name LIKE '%[%'"},
    {"where": "name LIKE '%/%'"},
    {"where": "name LIKE '%\\%'"},
    {"where": "name LIKE 'A%'"},
    {"where": "id IN (1, 3, 99)"},
    {"where": "id NOT IN (1, 3)"},
    {"where": "balance IN (20, '')"},
    {"where": "balance NOT IN (20, '')"},
    {"where": "born BETWEEN '1990-01-01' AND '2000-01-01'"},
    {"where": "born NOT BETWEEN '1990-01-01' AND '2000-01-01'"},
    {"where": "active = 1"},
    {"where": "NOT active = 1"},
    {"where": "score > 0 OR city IS NULL"},
    {"where": "name = ''"},
    {"where": "born IS NOT NULL AND NOT score < 0"},
    {"where": "balance > ''"},
    # the audit (issue #3): collations, PAD SPACE and LIKE on non-text fields
    {"where": "city = 'paris'"},
    {"where": "city != 'paris'"},
    {"where": "city IN ('paris', 'oslo')"},
    {"where": "city NOT IN ('paris', 'Rome')"},
    {"where": "name = 'Ann '"},
    {"where": "name = 'Ann'"},
    {"where": "name IN ('Ann ')"},
    {"where": "name > 'Ann'"},
    {"where": "name <= 'Ann'"},
    {"where": "city < 'a'"},
    {"where": "city >= 'Z'"},
    {"where": "city BETWEEN 'P' AND 'p'"},
    {"where": "name NOT BETWEEN 'A' AND 'Ann'"},
    {"where": "active LIKE '1'"},
    {"where": "active NOT LIKE '0'"},
    {"where": "id LIKE '_'"},
    {"where": "born LIKE '1990-%'"},
    {"where": "born NOT LIKE '%-0_-%'"},
    {"order_by": "city, id"},
    {"order_by": "city DESC, id"},
    {"order_by": "name, id DESC"},
    {"order_by": "name DESC, id", "limit": -3},
    {"order_by": "balance, id"},
    {"order_by": "balance desc, id"},
    {"order_by": "born DESC, id"},
    {"order_by": "active, id desc"},
    {"order_by": "score"},
    {"order_by": "id", "limit": 2, "offset": 1},
    {"order_by": "balance, id", "limit": -2},
    {"order_by": "born, id", "limit": -2, "offset": 4},
    {"order_by": "born, id", "limit": -3, "offset": 1},
    {"limit": 3},
    {"offset": 4},
    {"limit": -2},
    {"where": "balance > 0", "order_by": "balance DESC, id", "limit": 2, "offset": 1},
]


def in_memory(query: Query) -> list[int]:
    stream = TableStream.from_rows(ITEMS_SCHEMA, ITEMS_ROWS, table="items")
    return [row[0] for row in query.apply(stream)]


def in_database(engine: sa.Engine, query: Query) -> tuple[list[int], int]:
    pushdown = query.to_sqlalchemy(ITEMS)
    with engine.connect() as conn:
        kept = [row[0] for row in conn.execute(pushdown.apply(sa.select(ITEMS.c.id)))]
        matched = conn.execute(pushdown.count(sa.select(ITEMS))).scalar_one()
    return kept, matched


def items_in(engine: sa.Engine) -> Iterator[sa.Engine]:
    METADATA.drop_all(engine)
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(ITEMS.insert(), [dict(zip(ITEMS.c.keys(), row, strict=True))
                                      for row in ITEMS_ROWS])
    yield engine
    METADATA.drop_all(engine)


@pytest.fixture(scope="module")
def sqlite_items() -> Iterator[sa.Engine]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # Decimal via float on SQLite
        yield from items_in(sqlite_engine())


@pytest.fixture(scope="module")
def postgres_items(postgres_engine: sa.Engine) -> Iterator[sa.Engine]:
    yield from items_in(postgres_engine)


@pytest.fixture(scope="module")
def mariadb_items(mariadb_engine: sa.Engine) -> Iterator[sa.Engine]:
    yield from items_in(mariadb_engine)


def agree(engine: sa.Engine, kw: dict[str, Any]) -> None:
    query = parse(**kw)
    kept, matched = in_database(engine, query)
    expected = in_memory(query)
    assert kept == expected
    assert matched == in_memory(Query(query.filters)).__len__()


@pytest.mark.parametrize("kw", AGREEMENT)
def test_sqlite_agrees_with_memory(sqlite_items: sa.Engine, kw: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        agree(sqlite_items, kw)


@pytest.mark.postgres
@pytest.mark.parametrize("kw", AGREEMENT)
def test_postgres_agrees_with_memory(postgres_items: sa.Engine, kw: dict[str, Any]) -> None:
    agree(postgres_items, kw)


@pytest.mark.mariadb
@pytest.mark.parametrize("kw", AGREEMENT)
def test_mariadb_agrees_with_memory(mariadb_items: sa.Engine, kw: dict[str, Any]) -> None:
    agree(mariadb_items, kw)


def test_tail_keeps_the_select_list(sqlite_items: sa.Engine) -> None:
    pushdown = parse(order_by="born, id", limit=-2).to_sqlalchemy(ITEMS)
    with sqlite_items.connect() as conn:
        rows = conn.execute(pushdown.apply(sa.select(ITEMS.c.name))).all()
    assert [tuple(r) for r in rows] == [("Ann ",), ("Ann",)]


def test_projection_is_reported_not_applied() -> None:
    pushdown = Query(fields=("NAME", "id")).to_sqlalchemy(ITEMS)
    assert pushdown.columns == ("name", "id")
    assert len(pushdown.apply(sa.select(ITEMS)).selected_columns) == 7


def test_empty_or_group_matches_nothing(sqlite_items: sa.Engine) -> None:
    query = Query(filters=Group("And", (Filter("id", "gt", "0"),), (Group("Or"),)))
    assert in_database(sqlite_items, query) == ([], 0)


LINGUISTIC = sa.Table(
    "linguistic", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("city", sa.String(30, collation="und-x-icu")),
)
LINGUISTIC_ROWS = [(1, "a"), (2, "B"), (3, "Z"), (4, "é"), (5, "b"), (6, None)]


@pytest.fixture(scope="module")
def postgres_linguistic(postgres_engine: sa.Engine) -> Iterator[sa.Engine]:
    """A column under ICU's root collation, where 'a' < 'B' < 'é' < 'Z'."""
    LINGUISTIC.metadata.drop_all(postgres_engine)
    LINGUISTIC.metadata.create_all(postgres_engine)
    with postgres_engine.begin() as conn:
        conn.execute(LINGUISTIC.insert(), [{"id": i, "city": c} for i, c in LINGUISTIC_ROWS])
    yield postgres_engine
    LINGUISTIC.metadata.drop_all(postgres_engine)


@pytest.mark.postgres
@pytest.mark.parametrize("kw", [{"where": "city < 'a'"}, {"where": "city BETWEEN 'B' AND 'a'"},
                                {"where": "city >= 'Z'"}, {"order_by": "city DESC, id"},
                                {"order_by": "city", "limit": -2}])
def test_postgres_ignores_a_linguistic_collation(postgres_linguistic: sa.Engine,
                                                 kw: dict[str, Any]) -> None:
    query = parse(**kw)
    with postgres_linguistic.connect() as conn:
        kept = [r[0] for r in conn.execute(
            query.to_sqlalchemy(LINGUISTIC).apply(sa.select(LINGUISTIC.c.id)))]
    schema = Schema([Field("id", "INTEGER", key=True), Field("city", "TEXT")])
    stream = TableStream.from_rows(schema, LINGUISTIC_ROWS, table="linguistic")
    assert kept == [row[0] for row in query.apply(stream)]


NAN_TABLE = sa.Table(
    "tdtql_nan", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("x", sa.Float), sa.Column("d", sa.Numeric(10, 2)),
)
NAN_ROWS: list[tuple[Any, ...]] = [
    (1, float("nan"), Decimal("NaN")), (2, 1.0, Decimal("1.00")), (3, None, None),
    (4, float("inf"), Decimal("2.50")), (5, -1.0, Decimal("-1.00")),
]


@pytest.fixture(scope="module")
def postgres_nan(postgres_engine: sa.Engine) -> Iterator[sa.Engine]:
    """PostgreSQL stores NaN (in float8 and numeric), and orders it above every number."""
    NAN_TABLE.metadata.drop_all(postgres_engine)
    NAN_TABLE.metadata.create_all(postgres_engine)
    with postgres_engine.begin() as conn:
        conn.execute(NAN_TABLE.insert(), [dict(zip(("id", "x", "d"), r, strict=True))
                                          for r in NAN_ROWS])
    yield postgres_engine
    NAN_TABLE.metadata.drop_all(postgres_engine)


@pytest.mark.postgres
@pytest.mark.parametrize("kw", [
    {"where": "x != 1"}, {"where": "x > 0"}, {"where": "x >= -1"}, {"where": "x NOT IN (1)"},
    {"where": "x < 5"}, {"where": "x BETWEEN 0 AND '+Inf'"}, {"where": "d != 1"},
    {"where": "d > 0"}, {"where": "d NOT IN (1, 2.5)"}, {"where": "x IS NOT NULL"},
    {"where": "d IS NULL"}, {"order_by": "x, id"}, {"order_by": "d DESC, id"},
])
def test_postgres_nan_compares_with_nothing(postgres_nan: sa.Engine,
                                            kw: dict[str, Any]) -> None:
    query = parse(**kw)
    with postgres_nan.connect() as conn:
        kept = [r[0] for r in conn.execute(
            query.to_sqlalchemy(NAN_TABLE).apply(sa.select(NAN_TABLE.c.id)))]
    schema = Schema([Field("id", "INTEGER", key=True), Field("x", "REAL"),
                     Field("d", "DECIMAL", precision=10, scale=2)])
    stream = TableStream.from_rows(schema, NAN_ROWS, table="tdtql_nan")
    assert kept == [row[0] for row in query.apply(stream)]
