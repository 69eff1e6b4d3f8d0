"""Fixtures for the TDTQL tests: small typed tables, fixture packets, databases."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tdtp_core import Field, Schema, TableStream, read_packets
from tdtp_core.tdtql import parse
from tdtp_core.tdtql.sql import sqlite_case_sensitive_like

#: A small table with every kind of value the executors must agree on.
PEOPLE = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT"),
    Field("city", "TEXT"),
    Field("balance", "DECIMAL", precision=12, scale=2),
    Field("score", "REAL"),
    Field("active", "BOOLEAN"),
    Field("born", "DATE"),
])

PEOPLE_ROWS: list[tuple[Any, ...]] = [
    (1, "Ann", "Paris", Decimal("1500.50"), 1.5, True, date(1990, 1, 2)),
    (2, "bob", "Berlin", Decimal("20.00"), None, False, date(1985, 6, 30)),
    (3, "O'Brien", None, None, float("nan"), True, None),
    (4, "Ann", "paris", Decimal("-3.10"), float("inf"), None, date(2001, 12, 31)),
    (5, "", "Rome", Decimal("1500.5"), -0.0, True, date(1990, 1, 2)),
    (6, "line\nbreak", "Oslo", Decimal("7"), 2.0, False, date(1970, 1, 1)),
]


def people(batch_size: int = 2) -> TableStream:
    return TableStream.from_rows(PEOPLE, PEOPLE_ROWS, table="people", batch_size=batch_size)


def ids(stream: TableStream) -> list[int]:
    return [row[0] for row in stream]


@pytest.fixture
def run() -> Callable[..., list[int]]:
    """Ids of the people rows a text query keeps, in order."""

    def run(where: str | Sequence[str] | None = None, **kw: Any) -> list[int]:
        return ids(parse(where=where, **kw).apply(people()))

    return run


@pytest.fixture
def fixture_packet(fixtures_dir: Path) -> Callable[[str], TableStream]:
    """A shared fixture packet read as a stream."""

    def read(name: str) -> TableStream:
        return read_packets(fixtures_dir / name)

    return read


def sqlite_engine() -> sa.Engine:
    """In-memory SQLite whose LIKE is case-sensitive, as TDTQL's is."""
    engine = sa.create_engine("sqlite://")
    sa.event.listen(engine, "connect", sqlite_case_sensitive_like)
    return engine


def _server(url: str, marker: str, *, create_database: bool = False) -> Iterator[sa.Engine]:
    engine = sa.create_engine(url)
    try:
        if create_database:
            server = sa.create_engine(engine.url.set(database=""))
            with server.begin() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {engine.url.database}")
            server.dispose()
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{marker} server not reachable: {exc.orig}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sa.Engine]:
    url = os.environ.get("TDTP_TEST_POSTGRES_URL",
                         "postgresql+psycopg://postgres@127.0.0.1/postgres")
    yield from _server(url, "postgres")


@pytest.fixture(scope="session")
def mariadb_engine() -> Iterator[sa.Engine]:
    url = os.environ.get("TDTP_TEST_MARIADB_URL",
                         "mysql+pymysql://root@127.0.0.1/tdtp_tdtql?charset=utf8mb4")
    yield from _server(url, "mariadb", create_database=True)


