"""Differential test: random tables and random text queries, run in memory and, through
the SQLAlchemy compiler, by SQLite (and PostgreSQL when it is there); the rows kept,
their order and the counts must agree, and so must a refusal (the same query error).

Value domains are chosen where the database can store the value faithfully:

* REAL: finite and ±inf in column ``r``; NaN in its own column ``n``. SQLite stores NaN
  as NULL, so there ``n`` is only compared (unknown on both sides), never tested with IS
  NULL nor sorted on; PostgreSQL keeps NaN, so there ``n`` is sorted and NULL-tested too.
* DECIMAL: two places, at most 14 significant digits (SQLite compares them as doubles,
  which keeps order and equality in that range).
* TEXT: any Unicode but surrogates and U+0000; LIKE runs case-sensitive (the pragma), and
  its patterns swap the case of letters, so a case-insensitive LIKE would show.
* LIKE is drawn on every field: it matches the cell text of TEXT, INTEGER, BOOLEAN and
  DATE, and both sides must refuse it on the others.
* Dates, DATETIME and timestamps in years 1–9999, with the "no date" value, which a
  database holds as NULL; aware timestamps in UTC (SQLite keeps no offset).
* Every ORDER BY ends with ``id``: SQL sorts are not stable, so ties need a last key.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdtp_core import Field, Schema, TableStream
from tdtp_core.errors import QueryError
from tdtp_core.tdtql import parse
from tdtp_core.types import NODATE
from tdtp_core.values import format_value

from .conftest import sqlite_engine

FIELDS = [
    (Field("id", "INTEGER", key=True), sa.Integer),
    (Field("i", "INTEGER"), sa.BigInteger),
    (Field("r", "REAL"), sa.Float),
    (Field("n", "REAL"), sa.Float),
    (Field("d", "DECIMAL", precision=18, scale=2), sa.Numeric(18, 2)),
    (Field("t", "TEXT"), sa.Text),
    (Field("b", "BOOLEAN"), sa.Boolean),
    (Field("dt", "DATE"), sa.Date),
    (Field("dtm", "DATETIME"), sa.DateTime),
    (Field("ts", "TIMESTAMP"), sa.DateTime),
    (Field("tz", "TIMESTAMP", timezone="UTC"), sa.DateTime(timezone=True)),
    (Field("tm", "TIMESTAMP", subtype="time"), sa.Time),
    (Field("bl", "BLOB"), sa.LargeBinary),
]
SCHEMA = Schema(f for f, _ in FIELDS)
METADATA = sa.MetaData()
TABLE = sa.Table(
    "tdtql_diff", METADATA,
    *(sa.Column(f.name, t, primary_key=f.key, autoincrement=False) for f, t in FIELDS),
)
BY_NAME = {f.name: f for f, _ in FIELDS}

#: SQLite stores NaN as NULL: there the NaN column is neither sorted on nor NULL-tested.
WITHOUT_NAN = [name for name in BY_NAME if name != "n"]

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=5) | st.text("aAbB%_[/\\' \n,", max_size=4)

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "i": st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 3),
    "r": st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, 1.5, -1.5]),
    "n": st.floats() | st.just(float("nan")),
    "d": st.decimals(min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"),
                     places=2, allow_nan=False, allow_infinity=False)
    | st.sampled_from([Decimal("0.00"), Decimal("1.10"), Decimal("1.1"), Decimal("-2")]),
    "t": TEXT,
    "b": st.booleans(),
    "dt": st.dates() | st.just(NODATE),
    "dtm": st.datetimes() | st.just(NODATE),
    "ts": st.datetimes() | st.just(NODATE),
    "tz": st.datetimes(timezones=st.just(UTC)),
    "tm": st.times(),
    "bl": st.binary(max_size=3),
}


@st.composite
def tables(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    count = draw(st.integers(0, 10))
    rows = []
    for row_id in range(1, count + 1):
        values = [draw(st.none() | VALUES[name]) for name in list(BY_NAME)[1:]]
        rows.append((row_id, *values))
    return rows


def literal(field: Field, value: Any) -> str:
    return "'" + cell_text(field, value).replace("'", "''") + "'"


@st.composite
def value_of(draw: st.DrawFn, name: str, rows: list[tuple[Any, ...]]) -> str:
    """A literal for the field: often one of the table's values, so conditions hit."""
    index = list(BY_NAME).index(name)
    present = [row[index] for row in rows]
    choices = VALUES.get(name, st.integers(0, 12))
    value = draw(st.sampled_from(present) | choices if present else choices)
    return literal(BY_NAME[name], value)


def cell_text(field: Field, value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else format_value(field,
                                                                                      value)


@st.composite
def like_pattern(draw: st.DrawFn, name: str, rows: list[tuple[Any, ...]]) -> str:
    """Often a cell's text with wildcards put in and letters' case sometimes swapped."""
    index = list(BY_NAME).index(name)
    present = [cell_text(BY_NAME[name], r[index]) for r in rows if r[index] is not None]
    base = draw(st.sampled_from(present or [""]) | TEXT)
    chars = [draw(st.sampled_from([c, c, c.swapcase(), "%", "_"])) for c in base]
    if draw(st.booleans()):
        chars.append("%")
    return "'" + "".join(chars).replace("'", "''") + "'"


@st.composite
def condition(draw: st.DrawFn, rows: list[tuple[Any, ...]], null_testable: list[str],
              depth: int = 0) -> str:
    kind = draw(st.sampled_from(["atom", "atom", "not", "and", "or"] if depth < 3 else ["atom"]))
    if kind == "not":
        return f"NOT ({draw(condition(rows, null_testable, depth + 1))})"
    if kind in ("and", "or"):
        left = draw(condition(rows, null_testable, depth + 1))
        right = draw(condition(rows, null_testable, depth + 1))
        return f"({left}) {kind.upper()} ({right})"
    name = draw(st.sampled_from(list(BY_NAME)))
    ops = ["=", "!=", "<>", "<", "<=", ">", ">=", "in", "between", "like"]
    if name == "t":
        ops += ["like", "like"]
    if name in null_testable:
        ops += ["null"]
    op = draw(st.sampled_from(ops))
    negate = draw(st.sampled_from(["", "NOT "]))
    if op == "null":
        return f"{name} IS {negate}NULL"
    if op == "like":
        return f"{name} {negate}LIKE {draw(like_pattern(name, rows))}"
    if op == "in":
        items = draw(st.lists(value_of(name, rows), min_size=1, max_size=3))
        return f"{name} {negate}IN ({', '.join(items)})"
    if op == "between":
        low, high = draw(value_of(name, rows)), draw(value_of(name, rows))
        return f"{name} {negate}BETWEEN {low} AND {high}"
    return f"{name} {op} {draw(value_of(name, rows))}"


@st.composite
def cases(draw: st.DrawFn, nan_stored: bool) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """A table and a query; ``nan_stored``: the database keeps NaN (not NULL)."""
    columns = list(BY_NAME) if nan_stored else WITHOUT_NAN
    rows = draw(tables())
    where = draw(condition(rows, columns)) if draw(st.integers(0, 9)) else None
    keys = draw(st.lists(st.sampled_from(columns), max_size=3, unique=True))
    order = [f"{k} {draw(st.sampled_from(['ASC', 'desc', '']))}" for k in keys]
    if "id" not in keys:
        order.append("id")
    limit = draw(st.none() | st.integers(-5, 6))
    offset = draw(st.none() | st.integers(0, 5))
    return rows, {"where": where, "order_by": ", ".join(order), "limit": limit,
                  "offset": offset}


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.Engine]:
    engine = sqlite_engine()
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres(postgres_engine: sa.Engine) -> Iterator[sa.Engine]:
    METADATA.drop_all(postgres_engine)
    METADATA.create_all(postgres_engine)
    yield postgres_engine
    METADATA.drop_all(postgres_engine)


Outcome = tuple[list[int], int] | str


def in_database(engine: sa.Engine, rows: list[tuple[Any, ...]], kw: dict[str, Any]) -> Outcome:
    """Rows kept and rows matched, or the query error's message."""
    try:
        pushdown = parse(**kw).to_sqlalchemy(TABLE)
    except QueryError as exc:
        return exc.message
    stored = [{name: None if v is NODATE else v for name, v in zip(BY_NAME, r, strict=True)}
              for r in rows]  # a database holds "no date" as NULL
    with engine.begin() as conn:
        conn.execute(TABLE.delete())
        if rows:
            conn.execute(TABLE.insert(), stored)
        kept = [r[0] for r in conn.execute(pushdown.apply(sa.select(TABLE.c.id)))]
        matched = conn.execute(pushdown.count(sa.select(TABLE))).scalar_one()
    return kept, matched


def in_memory(rows: list[tuple[Any, ...]], kw: dict[str, Any]) -> Outcome:
    try:
        out = parse(**kw).apply(TableStream.from_rows(SCHEMA, rows, table="diff",
                                                      batch_size=3))
        kept = [r[0] for r in out]
    except QueryError as exc:
        return exc.message
    assert out.query_context is not None and out.query_context.results is not None
    return kept, out.query_context.results.matched_records


SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=400, deadline=None, suppress_health_check=SLOW_OK)
@given(case=cases(nan_stored=False))
def test_memory_and_sqlite_agree(engine: sa.Engine,
                                 case: tuple[list[tuple[Any, ...]], dict[str, Any]]) -> None:
    rows, kw = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # Decimal goes through float
        assert in_database(engine, rows, kw) == in_memory(rows, kw), kw


@pytest.mark.postgres
@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_OK)
@given(case=cases(nan_stored=True))
def test_memory_and_postgres_agree(postgres: sa.Engine,
                                   case: tuple[list[tuple[Any, ...]], dict[str, Any]]) -> None:
    rows, kw = case
    assert in_database(postgres, rows, kw) == in_memory(rows, kw), kw
