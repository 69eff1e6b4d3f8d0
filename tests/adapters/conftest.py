"""Fixtures of the adapter tests: one real database per parameter, tables cleaned up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tdtp_core.plugins import get_host
from tdtp_core.sql import SqlAdapter
from tdtp_core.testing import services
from tdtp_core.testing.services import TableJanitor
from tests.adapters.adapter_helpers import Db

# The shared server fixtures: skip without the server, fail under CI=true.
postgres_url = services.postgres_url
mariadb_url = services.mariadb_url
tables = services.tables


def _db(kind: str, url: str, janitor: TableJanitor) -> Db:
    adapter = get_host().adapter_for_url(url)
    assert isinstance(adapter, SqlAdapter)
    return Db(kind, url, adapter, lambda: janitor.name(url))


def sqlite_file_url(tmp_path: Path, name: str = "test.db") -> str:
    return f"sqlite:///{tmp_path / name}"


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
])
def db(request: pytest.FixtureRequest, tmp_path: Path, tables: TableJanitor) -> Iterator[Db]:
    """Each test once per database: SQLite, PostgreSQL, MariaDB."""
    kind = request.param
    url = sqlite_file_url(tmp_path) if kind == "sqlite" else request.getfixturevalue(
        f"{kind}_url")
    database = _db(kind, url, tables)
    yield database
    if kind == "sqlite":
        database.adapter.close()


@pytest.fixture
def sqlite_db(tmp_path: Path, tables: TableJanitor) -> Iterator[Db]:
    database = _db("sqlite", sqlite_file_url(tmp_path), tables)
    yield database
    database.adapter.close()


@pytest.fixture
def pg(postgres_url: str, tables: TableJanitor) -> Db:
    return _db("postgres", postgres_url, tables)


@pytest.fixture
def maria(mariadb_url: str, tables: TableJanitor) -> Db:
    return _db("mariadb", mariadb_url, tables)
