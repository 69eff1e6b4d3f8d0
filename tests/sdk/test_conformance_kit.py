"""The testing kit on real components (they must pass) and on broken ones (the suites
must catch them), and the fixtures of tdtp's pytest plugin."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tdtp_core.packet import read_packets
from tdtp_core.plugins import PluginHost, PluginInfo
from tdtp_core.stream import TableStream
from tdtp_core.testing import (
    TYPE_MATRIX_ROWS,
    AdapterConformance,
    CodecConformance,
    FormatConformance,
    TypeMatrix,
    infer_schema,
)


class TestZstdCodec(CodecConformance):
    plugin = "tdtp_codec_zstd"
    component = "zstd"


class TestSqliteAdapter(AdapterConformance):
    plugin = "tdtp_adapter_sqlite"
    component = "sqlite"
    url_template = "sqlite:///{tmp}/conformance.db"


class TestPacketFormat(FormatConformance):
    plugin = "tdtp_core.builtin"
    component = "tdtp"


class TestCsvFormat(FormatConformance):
    """CSV has no NULL text: an empty cell in a TEXT field reads as ""."""

    plugin = "tdtp_core.builtin"
    component = "csv"
    write_options: ClassVar[dict[str, Any]] = {"schema_sidecar": True}
    rows: ClassVar[list[tuple[Any, ...]]] = [
        tuple("" if v is None and i == 4 else v for i, v in enumerate(row))
        for row in TYPE_MATRIX_ROWS]


BROKEN_PLUGIN = '''
"""A plugin whose components break the contract in the ways the suites look for."""

import yaml  # noqa: F401 - heavy import at top level, on purpose

from tdtp_core.hookspecs import hookimpl


class LeakyCodec:
    """Never refuses anything: no output cap, no corruption check."""

    name = "leaky"

    def compress(self, data, *, level=3):
        return data

    def decompress(self, data, *, max_output):
        return data


class GreedyProcessor:
    """Reads the whole stream before yielding and accepts any config."""

    name = "greedy"
    config_schema = {"type": "object"}

    def __init__(self, config=None):
        self.config = config

    def process(self, stream):
        rows = stream.rows()
        return stream.derive(iter([rows]) if rows else iter(()))


@hookimpl
def tdtp_register_codecs(registry):
    registry.add("leaky", "broken_plugin:LeakyCodec")


@hookimpl
def tdtp_register_processors(registry):
    registry.add("greedy", "broken_plugin:GreedyProcessor")
'''

BROKEN_TESTS = '''
from tdtp_core.testing import CodecConformance, ProcessorConformance


class TestLeaky(CodecConformance):
    plugin = "broken_plugin"
    component = "leaky"


class TestGreedy(ProcessorConformance):
    plugin = "broken_plugin"
    component = "greedy"
    config = {}
'''


def test_suites_catch_broken_components(tmp_path: Path) -> None:
    (tmp_path / "broken_plugin.py").write_text(textwrap.dedent(BROKEN_PLUGIN))
    (tmp_path / "test_broken.py").write_text(textwrap.dedent(BROKEN_TESTS))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
         "-o", "addopts=", "test_broken.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PATH": "", "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)})
    failed = set(re.findall(r"^FAILED test_broken.py::(\w+::\w+)", result.stdout, re.M))
    assert failed == {
        "TestLeaky::test_plugin_module_imports_nothing_heavy",
        "TestLeaky::test_output_past_max_output_is_a_packet_error",
        "TestLeaky::test_garbage_is_a_packet_error",
        "TestLeaky::test_truncated_input_is_a_packet_error",
        "TestGreedy::test_plugin_module_imports_nothing_heavy",
        "TestGreedy::test_refuses_a_bad_config_before_any_row_moves",
        "TestGreedy::test_streams_batch_by_batch_without_reading_ahead",
    }, result.stdout[-3000:]


# ------------------------------------------------------------------ pytest plugin fixtures


def test_tdtp_host_starts_empty_and_register_plugin_adds_one(
    tdtp_host: PluginHost, register_plugin: Callable[..., PluginInfo]
) -> None:
    assert tdtp_host.plugins == [] and tdtp_host.strict
    info = register_plugin("tdtp_codec_zstd")
    assert (info.dist, info.status) == ("tdtp-codec-zstd", "ok")
    assert tdtp_host.codec("zstd").name == "zstd"


def test_sqlite_url_is_a_fresh_file_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    assert sqlite_url == f"sqlite:///{tmp_path / 'test.db'}"


def test_tdtp_stream_infers_the_schema(tdtp_stream: Callable[..., TableStream]) -> None:
    stream = tdtp_stream([{"id": 1, "name": None, "paid": Decimal("1.50"), "flag": True,
                           "day": date(2024, 1, 31)},
                          {"id": 2, "name": "Ada", "paid": Decimal("2"), "flag": False,
                           "day": None}])
    assert [(f.name, f.type) for f in stream.schema] == [
        ("id", "INTEGER"), ("name", "TEXT"), ("paid", "DECIMAL"), ("flag", "BOOLEAN"),
        ("day", "DATE")]
    assert stream.schema.field("paid").scale == 2
    assert stream.rows()[1] == (2, "Ada", Decimal("2"), False, None)


def test_infer_schema_needs_rows() -> None:
    with pytest.raises(ValueError, match="schema="):
        infer_schema([])


def test_tdtp_packet_writes_the_type_matrix_by_default(
    tdtp_packet: Callable[..., list[Path]], tdtp_type_matrix: TypeMatrix
) -> None:
    (path,) = tdtp_packet(integrity=True)
    back = read_packets(path)
    assert back.table == "t" and back.schema.names == tdtp_type_matrix.schema.names
    assert back.rows() == tdtp_type_matrix.rows


def test_tdtp_packet_takes_rows_and_options(tdtp_packet: Callable[..., list[Path]]) -> None:
    rows: list[tuple[Any, ...]] = [(i, "x" * 100) for i in range(200)]
    paths = tdtp_packet(rows, table="big", part_size=4096)
    assert len(paths) > 1 and paths[0].name.startswith("big")
    assert read_packets(*paths).rows() == rows
