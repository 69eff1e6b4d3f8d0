"""Pytest fixtures for tests that need a real database server.

Import the fixtures into a ``conftest.py`` (``from tdtp_core.testing.services import
postgres_url, mariadb_url``). A fixture checks that its server answers; when it does
not, the test is skipped with the reason — except under ``CI=true``, where a missing
server is a broken CI and the test fails instead. Servers are found through
``TDTP_TEST_POSTGRES_URL``, ``TDTP_TEST_MARIADB_URL`` and ``TDTP_TEST_MSSQL_URL``;
the first two default to the local servers of the development machines. SQL Server
has no default: without its URL those tests are skipped, in CI too.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from types import ModuleType

import pytest
import sqlalchemy as sa

from tdtp_core.sql.urls import mask_url
from tdtp_core.testing import pytest_plugin

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_DEFAULT = "mysql+pymysql://root@127.0.0.1:3306/test"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def unreachable(reason: str) -> None:
    """Skip the test, or fail it under ``CI=true``."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a required service is missing)", pytrace=False)
    pytest.skip(reason)


def require_compiled(module: ModuleType | None, name: str) -> ModuleType:
    """``module`` (an optional compiled helper) if it was built, else skip the test, or
    fail it under ``CI=true``, where the build must have had a C compiler."""
    if module is None:
        if in_ci():
            pytest.fail(f"{name} was not built (CI=true: it must be)", pytrace=False)
        pytest.skip(f"{name} was not built here (no C compiler or headers)")
    return module


def check_server(url: str) -> str:
    """``url`` if a connection and ``SELECT 1`` succeed, else skip (or fail in CI)."""
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except ImportError as exc:
        unreachable(f"driver for {mask_url(url)} is not installed: {exc}")
    except sa.exc.SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        unreachable(f"database {mask_url(url)} is not reachable: {first}")
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a reachable PostgreSQL database (``TDTP_TEST_POSTGRES_URL``)."""
    return check_server(os.environ.get("TDTP_TEST_POSTGRES_URL", POSTGRES_DEFAULT))


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    """URL of a reachable MariaDB/MySQL database (``TDTP_TEST_MARIADB_URL``)."""
    return check_server(os.environ.get("TDTP_TEST_MARIADB_URL", MARIADB_DEFAULT))


@pytest.fixture(scope="session")
def mssql_url() -> str:
    """URL of a SQL Server database; skipped (in CI too) unless ``TDTP_TEST_MSSQL_URL``."""
    url = os.environ.get("TDTP_TEST_MSSQL_URL")
    if not url:
        pytest.skip("TDTP_TEST_MSSQL_URL is not set (no SQL Server on this machine)")
    return check_server(url)


#: Also a fixture of tdtp's pytest plugin; re-exported for conftests that import it here.
sqlite_url = pytest_plugin.sqlite_url


def unique_table(prefix: str = "t") -> str:
    """A table name no other test (or test run) uses."""
    return f"{prefix}_{secrets.token_hex(5)}"


class TableJanitor:
    """Remembers tables a test creates and drops them afterwards."""

    def __init__(self) -> None:
        self._tables: list[tuple[str, str]] = []

    def name(self, url: str, prefix: str = "t") -> str:
        """A fresh table name in the database at ``url``, dropped after the test."""
        table = unique_table(prefix)
        self._tables.append((url, table))
        return table

    def drop_all(self) -> None:
        for url, table in reversed(self._tables):
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text(
                        f"DROP TABLE IF EXISTS {conn.dialect.identifier_preparer.quote(table)}"))
            except sa.exc.SQLAlchemyError:
                pass  # the database went away: nothing left to clean
            finally:
                engine.dispose()


@pytest.fixture
def tables() -> Iterator[TableJanitor]:
    """``tables.name(url)`` gives a unique table name that is dropped after the test."""
    janitor = TableJanitor()
    yield janitor
    janitor.drop_all()


def modules_loaded_by(module: str) -> set[str]:
    """Top-level packages a fresh interpreter has loaded after ``import module``.

    Plugin tests use it to prove that discovering a plugin stays cheap (design §3).
    """
    import subprocess
    import sys

    code = (f"import sys, {module}; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return set(out.split())
