"""The PostgreSQL plugin: registration, a light hook module, its type map, COPY paths."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql
from tdtp_adapter_postgres.adapter import PostgresAdapter
from tdtp_adapter_postgres.types import PostgresTypes

from tdtp_core.plugins import get_host
from tdtp_core.sql import NativeType
from tdtp_core.testing import services
from tdtp_core.testing.services import modules_loaded_by
from tdtp_core.types import Field

TYPES = PostgresTypes()
postgres_url = services.postgres_url


@pytest.mark.parametrize("url", ["postgresql://h/db", "postgres://h/db",
                                 "postgresql+psycopg://h/db"])
def test_postgres_urls_get_this_adapter_with_psycopg(url: str) -> None:
    adapter = get_host().adapter_for_url(url)
    assert isinstance(adapter, PostgresAdapter)
    assert adapter.sa_url.drivername == "postgresql+psycopg"


def test_the_hook_module_imports_nothing_heavy() -> None:
    assert not modules_loaded_by("tdtp_adapter_postgres") & {"sqlalchemy", "psycopg"}


@pytest.mark.parametrize(("native", "expected"), [
    ("BIGINT", Field("c", "INTEGER")),
    ("int4", Field("c", "INTEGER")),
    ("DOUBLE PRECISION", Field("c", "REAL")),
    ("NUMERIC(12, 3)", Field("c", "DECIMAL", precision=12, scale=3)),
    ("NUMERIC", Field("c", "DECIMAL", precision=18, scale=2)),
    ("VARCHAR(20)", Field("c", "TEXT", length=20)),
    ("TEXT", Field("c", "TEXT")),
    ("BOOLEAN", Field("c", "BOOLEAN")),
    ("TIME WITHOUT TIME ZONE", Field("c", "TIMESTAMP", subtype="time")),
    ("TIMESTAMP WITHOUT TIME ZONE", Field("c", "TIMESTAMP")),
    ("TIMESTAMP WITH TIME ZONE", Field("c", "TIMESTAMP", subtype="timestamptz", timezone="UTC")),
    ("BYTEA", Field("c", "BLOB")),
    ("UUID", Field("c", "TEXT", subtype="uuid", length=-1)),
    ("JSONB", Field("c", "TEXT", subtype="jsonb", length=-1)),
    ("TEXT[]", Field("c", "TEXT", subtype="array", length=-1)),
    ("INTERVAL", Field("c", "TEXT")),
])
def test_native_types_map_to_tdtp(native: str, expected: Field) -> None:
    assert TYPES.to_field("c", NativeType.parse(native)) == expected


@pytest.mark.parametrize(("field", "ddl"), [
    (Field("c", "INTEGER"), "BIGINT"),
    (Field("c", "INTEGER", subtype="smallint"), "SMALLINT"),
    (Field("c", "REAL"), "DOUBLE PRECISION"),
    (Field("c", "DECIMAL"), "NUMERIC(18, 2)"),
    (Field("c", "VARCHAR", length=9), "TEXT"),
    (Field("c", "TIMESTAMP", subtype="timestamptz", timezone="UTC"), "TIMESTAMP WITH TIME ZONE"),
    (Field("c", "TIMESTAMP", subtype="time"), "TIME WITHOUT TIME ZONE"),
    (Field("c", "DATETIME"), "TIMESTAMP WITHOUT TIME ZONE"),
    (Field("c", "TIMESTAMP", timezone="UTC"), "TIMESTAMP WITH TIME ZONE"),
    (Field("c", "DATETIME", timezone="UTC"), "TIMESTAMP WITH TIME ZONE"),
    (Field("c", "TIMESTAMP", subtype="time", timezone="UTC"), "TIME WITHOUT TIME ZONE"),
    (Field("c", "TEXT", subtype="uuid"), "UUID"),
    (Field("c", "TEXT", subtype="array"), "TEXT[]"),
    (Field("c", "BLOB"), "BYTEA"),
])
def test_tdtp_types_create_postgres_columns(field: Field, ddl: str) -> None:
    assert TYPES.to_column_type(field).compile(dialect=postgresql.dialect()) == ddl


@pytest.mark.postgres
def test_unfiltered_export_uses_copy_and_filtered_export_binds(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tdtp_core.sql import SqlAdapter
    from tdtp_core.stream import TableStream
    from tdtp_core.tdtql import parse
    from tdtp_core.testing.services import TableJanitor
    from tdtp_core.types import Schema

    janitor = TableJanitor()
    adapter = PostgresAdapter(postgres_url)
    t = janitor.name(postgres_url)
    try:
        schema = Schema([Field("id", "INTEGER", key=True), Field("n", "TEXT")])
        adapter.write(TableStream.from_rows(schema, [(1, "a"), (2, "b")], table=t),
                      create=True)
        cursor_reads: list[bool] = []
        base_fetch = SqlAdapter._fetch

        def spy(self: SqlAdapter, *args: object) -> object:
            cursor_reads.append(True)
            return base_fetch(self, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(SqlAdapter, "_fetch", spy)
        assert adapter.read(t).rows() == [(1, "a"), (2, "b")]
        assert cursor_reads == []
        assert adapter.read(t, parse(where="n = 'b'")).rows() == [(2, "b")]
        assert cursor_reads == [True]
    finally:
        janitor.drop_all()


@pytest.mark.postgres
def test_timestamptz_reads_in_utc_whatever_the_client_zone(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from tdtp_core.stream import TableStream
    from tdtp_core.testing.services import TableJanitor
    from tdtp_core.types import Schema

    monkeypatch.setenv("PGTZ", "Asia/Tokyo")  # 9999-12-31 23:59 UTC is year 10000 there
    janitor = TableJanitor()
    adapter = PostgresAdapter(postgres_url)
    adapter.close()  # new connections, which libpq sets to PGTZ
    t = janitor.name(postgres_url)
    last = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    try:
        schema = Schema([Field("id", "INTEGER", key=True),
                         Field("at", "TIMESTAMP", timezone="UTC")])
        adapter.write(TableStream.from_rows(schema, [(1, last)], table=t), create=True)
        assert adapter.read(t).rows() == [(1, last)]
    finally:
        adapter.close()
        janitor.drop_all()
