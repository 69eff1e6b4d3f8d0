"""Property: whatever text a pipeline file holds, loading it raises nothing but ConfigError."""

from __future__ import annotations

import contextlib
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdtp_core.errors import ConfigError
from tdtp_core.pipeline import parse_pipeline

KEYS = ["name", "version", "sources", "transform", "outputs", "variables", "processors",
        "workspace", "sql", "steps", "url", "table", "query", "file", "broker", "type",
        "destination", "result_table", "key", "types", "params", "default", "on_error",
        "timeout", "compress", "part_size", "options", "mode", "path", "resilience", "retry"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.text(max_size=20), st.sampled_from(
                        ["SELECT 1", ":x", "${X}", "2024-13-01", "tdtp", "csv", "a.csv",
                         "sqlite:///x.db", "DECIMAL(10,2)", "amqp://h/%2F?queue=q"]))
DATA = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)),
    max_leaves=30)


def load(text: str) -> None:
    with contextlib.suppress(ConfigError):
        parse_pipeline(text, file="fuzz.yaml", env={})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_config_errors(text: str) -> None:
    load(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA)
def test_arbitrary_structures_raise_only_config_errors(data: Any) -> None:
    load(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["name", "sources", "transform", "outputs"]), DATA))
def test_near_valid_pipelines_raise_only_config_errors(data: dict[str, Any]) -> None:
    base: dict[str, Any] = {"name": "p", "sources": [{"name": "a", "file": "a.csv"}],
                            "transform": {"sql": "SELECT * FROM a"},
                            "outputs": [{"type": "csv", "destination": "o.csv"}]}
    base.update(data)
    load(yaml.safe_dump(base, allow_unicode=True))


def test_deep_nesting_is_a_config_error() -> None:
    load("[" * 5000 + "]" * 5000)
    load("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200)))
