"""``tdtp.yaml`` connections and URL handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from tdtp_core.config import load_config, resolve_url
from tdtp_core.errors import ConfigError
from tdtp_core.sql.urls import dialect_of, mask_url, parse_url, split_table_name


@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
    ("mysql+pymysql://root@h/db", "mysql+pymysql://root@h/db"),
    ("mssql+pymssql://sa:Secret!1@h:1433/db?charset=utf8", "mssql+pymssql://sa:***@h:1433/db?charset=utf8"),
    ("postgresql://h/db?user=a&password=x", "postgresql://h/db?user=a&password=***"),
    ("sqlite:///a.db", "sqlite:///a.db"),
])
def test_mask_url_hides_passwords(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(("url", "driver", "expected"), [
    ("postgresql://h/db", "psycopg", "postgresql+psycopg"),
    ("postgres://h/db", "psycopg", "postgresql+psycopg"),
    ("postgresql+psycopg://h/db", "psycopg", "postgresql+psycopg"),
    ("mariadb://h/db", "pymysql", "mariadb+pymysql"),
    ("mysql://h/db", "pymysql", "mysql+pymysql"),
    ("mssql://h/db", "pymssql", "mssql+pymssql"),
    ("sqlite:///a.db", "pysqlite", "sqlite+pysqlite"),
])
def test_bare_schemes_get_the_plugin_driver(url: str, driver: str, expected: str) -> None:
    parsed = parse_url(url, driver=driver, aliases={"postgres": "postgresql"})
    assert parsed.drivername == expected and dialect_of(url) in expected


@pytest.mark.parametrize(("name", "split"), [
    ("orders", (None, "orders")),
    ("sales.orders", ("sales", "orders")),
    ("[dbo].[Order Lines]", ("dbo", "Order Lines")),
    ('"my.schema"."t"', ("my.schema", "t")),
])
def test_split_table_name(name: str, split: tuple[str | None, str]) -> None:
    assert split_table_name(name) == split


def test_connections_interpolate_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "tdtp.yaml"
    path.write_text("connections:\n  a: postgresql://u:${PW}@h/db\n  b: ${URL:-sqlite:///b.db}\n")
    config = load_config(path, env={"PW": "s"})
    assert config.connections == {"a": "postgresql://u:s@h/db", "b": "sqlite:///b.db"}


def test_an_unset_variable_names_itself_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tdtp.yaml"
    path.write_text("connections:\n  a: postgresql://u:${NOPE}@h/db\n")
    with pytest.raises(ConfigError, match="NOPE is not set") as err:
        load_config(path, env={})
    assert str(path) in str(err.value)


def test_urls_pass_through_and_unknown_names_fail(tmp_path: Path) -> None:
    path = tmp_path / "tdtp.yaml"
    path.write_text("connections: {}\n")
    assert resolve_url("sqlite:///x.db", load_config(path)) == "sqlite:///x.db"
    with pytest.raises(ConfigError, match="neither a database URL nor a named connection"):
        resolve_url("shop", load_config(path))
