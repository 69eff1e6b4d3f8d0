"""Hostile values and field names reach the database only as bound parameters and quoted
identifiers (DECISIONS 11): proven on the SQL text of every dialect and by execution."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql, sqlite

from tdtp_core.tdtql import Filter, Group, Query, parse

from .conftest import sqlite_engine

HOSTILE_VALUES = [
    "'; DROP TABLE victims; --",
    "x' OR '1'='1",
    "\\'; DROP TABLE victims; --",
    "*/ DROP TABLE victims; /*",
    "\"; DROP TABLE victims; --",
    "]; DROP TABLE victims; --",
    "%' OR 1=1 --",
]

HOSTILE_NAMES = [
    'x"; DROP TABLE victims; --',
    "o'brien",
    "a]b; DROP TABLE victims",
    "back\\slash",
    "semi;colon -- comment /* c */",
]

METADATA = sa.MetaData()
VICTIMS = sa.Table(
    "victims", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    *(sa.Column(name, sa.String(80)) for name in HOSTILE_NAMES),
)

DIALECTS = [sqlite.dialect(), postgresql.dialect(), mysql.dialect(), mssql.dialect()]


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.Engine]:
    engine = sqlite_engine()
    METADATA.create_all(engine)
    rows = [{"id": i, **{name: value for name in HOSTILE_NAMES}}
            for i, value in enumerate(HOSTILE_VALUES)]
    with engine.begin() as conn:
        conn.execute(VICTIMS.insert(), rows)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("operator", ["eq", "like", "in", "between", "gt"])
def test_values_never_appear_in_sql_text(dialect: sa.engine.Dialect, value: str,
                                         operator: str) -> None:
    query = Query(filters=Group("And", (Filter("o'brien", operator, value, value),)))
    compiled = query.to_sqlalchemy(VICTIMS).apply(sa.select(VICTIMS.c.id)).compile(
        dialect=dialect
    )
    assert value not in str(compiled)
    assert "DROP" not in str(compiled)
    params = [v for p in compiled.params.values() for v in (p if isinstance(p, list) else [p])]
    assert any("DROP" in v or "OR" in v for v in params)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_are_quoted_identifiers(dialect: sa.engine.Dialect, name: str) -> None:
    query = Query(filters=Group("And", (Filter(name, "is_null"),)),
                  order_by=parse(order_by=f'"{name.replace(chr(34), 2 * chr(34))}"').order_by)
    sql = str(query.to_sqlalchemy(VICTIMS).apply(sa.select(VICTIMS.c.id)).compile(dialect=dialect))
    quoted = dialect.identifier_preparer.quote(name)
    assert quoted != name
    assert f"victims.{quoted} IS NULL" in sql
    assert f"victims.{quoted}" in sql.split("ORDER BY")[1]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_query_finds_its_row_and_harms_nothing(engine: sa.Engine, name: str,
                                                       value: str) -> None:
    query = Query(filters=Group("And", (Filter(name, "eq", value),)))
    with engine.connect() as conn:
        found = conn.execute(query.to_sqlalchemy(VICTIMS).apply(sa.select(VICTIMS.c.id)))
        assert [r[0] for r in found] == [HOSTILE_VALUES.index(value)]
        count = conn.execute(sa.select(sa.func.count()).select_from(VICTIMS)).scalar_one()
    assert count == len(HOSTILE_VALUES)
    assert sa.inspect(engine).get_table_names() == ["victims"]


def test_hostile_text_query_round_trip(engine: sa.Engine) -> None:
    where = f"\"{HOSTILE_NAMES[1]}\" = '{HOSTILE_VALUES[0].replace(chr(39), 2 * chr(39))}' " \
            f"OR [{HOSTILE_NAMES[3]}] LIKE '%--%'"
    query = parse(where=where, order_by=f'"{HOSTILE_NAMES[1]}" DESC', limit=-3)
    with engine.connect() as conn:
        rows = conn.execute(query.to_sqlalchemy(VICTIMS).apply(sa.select(VICTIMS.c.id))).all()
    assert {r[0] for r in rows} <= set(range(len(HOSTILE_VALUES)))
    assert 0 in {r[0] for r in rows}
    assert sa.inspect(engine).get_table_names() == ["victims"]
