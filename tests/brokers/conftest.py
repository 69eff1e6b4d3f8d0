"""Fixtures for broker, dead-letter and audit tests: real RabbitMQ, Kafka (Tansu),
PostgreSQL and SQLite; a missing service skips (fails under CI=true)."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tdtp_core import audit
from tdtp_core.resilience import BreakerConfig, ResilienceConfig, RetryPolicy, reset_breakers
from tdtp_core.stream import TableStream
from tdtp_core.testing.brokers import (  # noqa: F401 - fixtures
    kafka_bootstrap,
    kafka_topic,
    rabbit_queue,
    rabbitmq_url,
)
from tdtp_core.testing.services import postgres_url, tables  # noqa: F401 - fixtures
from tdtp_core.types import Field, Schema

SCHEMA = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT"),
    Field("amount", "DECIMAL", precision=12, scale=2),
])

#: Quick to give up, so tests about failures stay short.
FAST = ResilienceConfig(RetryPolicy(max_attempts=3, initial_wait=0.05, max_wait=0.2,
                                    max_time=10),
                        BreakerConfig(threshold=50, cooldown=1))


@pytest.fixture(params=["rabbitmq", "kafka"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """A fresh queue on each broker kind."""
    fixture = "rabbit_queue" if request.param == "rabbitmq" else "kafka_topic"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No tdtp.yaml from the working directory, fresh breakers, audit to nowhere."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TDTP_CONFIG", raising=False)
    monkeypatch.delenv("TDTP_AUDIT_FILE", raising=False)
    monkeypatch.delenv("TDTP_AUDIT_DB", raising=False)
    reset_breakers()
    audit.configure([])
    yield
    reset_breakers()
    audit.configure([])


@pytest.fixture
def audit_file(tmp_path: Path) -> Path:
    """Audit entries of this test go to a JSON-lines file."""
    path = tmp_path / "audit.jsonl"
    audit.configure([audit.JsonLinesAppender(path)])
    return path


def rows(n: int, start: int = 0, tag: str = "name") -> list[tuple[object, ...]]:
    return [(i, f"{tag} {i}", decimal.Decimal(i) / 100) for i in range(start, start + n)]


@pytest.fixture
def make_stream() -> Callable[..., TableStream]:
    def make(table: str, n: int, *, start: int = 0, tag: str = "name") -> TableStream:
        return TableStream.from_rows(SCHEMA, rows(n, start, tag), table=table)

    return make


@pytest.fixture
def sqlite_target(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'target.db'}"


@pytest.fixture
def count_rows() -> Callable[[str, str], int]:
    """Rows in a table; 0 when it does not exist."""
    def count(url: str, table: str) -> int:
        from tdtp_core.sql.urls import parse_url

        driver = "psycopg" if url.startswith("postgres") else "pysqlite"
        engine = sa.create_engine(parse_url(url, driver=driver), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table(table):
                    return 0
                return int(conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one())
        finally:
            engine.dispose()

    return count

