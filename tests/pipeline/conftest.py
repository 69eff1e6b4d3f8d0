"""Fixtures of the pipeline tests: the demo database, real servers, a clean process."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tdtp_core import audit
from tdtp_core.pipeline import Pipeline, RunSummary, load_pipeline, run_pipeline
from tdtp_core.resilience import reset_breakers
from tdtp_core.testing import services
from tdtp_core.testing.brokers import rabbit_queue, rabbitmq_url

postgres_url = services.postgres_url
mariadb_url = services.mariadb_url
tables = services.tables
rabbitmq_url = rabbitmq_url
rabbit_queue = rabbit_queue

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No tdtp.yaml from the working directory, fresh breakers, audit to nowhere."""
    monkeypatch.chdir(tmp_path)
    for name in ("TDTP_CONFIG", "TDTP_AUDIT_FILE", "TDTP_AUDIT_DB", "TDTP_DEMO_DB"):
        monkeypatch.delenv(name, raising=False)
    reset_breakers()
    audit.configure([])
    yield
    reset_breakers()
    audit.configure([])


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    """URL of the demo database (``tdtp demo``'s table orders, 200 rows)."""
    from tdtp_core.cli.db import build_demo
    from tdtp_core.plugins import get_host

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    adapter = get_host().adapter_for_url(url)
    build_demo(adapter)
    adapter.close()
    return url


Write = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """``write(yaml_text, name="p.yaml")`` → the path of a pipeline file in tmp_path."""

    def make(text: str, name: str = "p.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return make


Run = Callable[..., RunSummary]


@pytest.fixture
def run(write: Write) -> Run:
    """``run(yaml_text, variables=..., dry_run=...)`` → the run summary."""

    def go(text: str, *, variables: dict[str, str] | None = None, dry_run: bool = False,
           name: str = "p.yaml") -> RunSummary:
        pipeline: Pipeline = load_pipeline(write(text, name), variables=variables)
        return run_pipeline(pipeline, dry_run=dry_run)

    return go
