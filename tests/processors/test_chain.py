"""The processor contract: config checks, chain order, exactly-once, schema changes,
streaming, option parsing and the CLI's record of the order options were given in."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
import typer
from typer.testing import CliRunner

from tdtp_core import Field, Schema, TableStream
from tdtp_core.cli import processor_options as po
from tdtp_core.errors import ConfigError, PluginNotFound
from tdtp_core.hookspecs import hookimpl
from tdtp_core.plugins import PluginHost, Registrar
from tdtp_core.processors import (
    BaseProcessor,
    ColumnFn,
    ColumnProcessor,
    ProcessorChain,
    ProcessorSpec,
    Step,
    apply,
    build_chain,
    parse_option,
)
from tdtp_core.stream import Batch
from tdtp_core.yamlconf import PathPart

SCHEMA = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])
ROWS = [(1, "a"), (2, "b"), (3, None)]


def stream(rows: Sequence[tuple[Any, ...]] = ROWS, batch_size: int = 2) -> TableStream:
    return TableStream.from_rows(SCHEMA, rows, table="t", batch_size=batch_size)


class Suffix(ColumnProcessor):
    """Appends ``config["fields"][name]`` to the field's text values."""

    name: ClassVar[str] = "suffix"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object", "required": ["fields"], "additionalProperties": False,
        "properties": {"fields": {"type": "object",
                                  "additionalProperties": {"type": "string"}}},
    }

    def column(self, field: Field, rule: Any, path: Sequence[PathPart]) -> tuple[Field, ColumnFn]:
        return field, lambda values: [None if v is None else v + rule for v in values]


class Reshape(BaseProcessor):
    """Renames ``name`` to ``label``, makes ``id`` TEXT, drops nothing, adds ``n``."""

    name: ClassVar[str] = "reshape"

    def bind(self, schema: Schema, table: str) -> Step:
        out = Schema([Field("id", "TEXT", key=True), Field("label", "TEXT"),
                      Field("n", "INTEGER")])
        counter = iter(range(1, 1_000_000))
        return Step(out, lambda batch: [(str(r[0]), r[1], next(counter)) for r in batch])


class DropName(BaseProcessor):
    name: ClassVar[str] = "dropname"

    def bind(self, schema: Schema, table: str) -> Step:
        i = self.field_index(schema, "name", (), table)
        return Step(schema.with_fields([f for f in schema if f.name != "name"]),
                    lambda batch: [r[:i] + r[i + 1:] for r in batch])


class Finisher(BaseProcessor):
    """Counts rows and records that the stream ended."""

    name: ClassVar[str] = "finisher"
    finished: ClassVar[list[int]] = []

    def bind(self, schema: Schema, table: str) -> Step:
        seen = [0]

        def batch(rows: Batch) -> Batch:
            seen[0] += len(rows)
            return rows

        return Step(schema, batch, lambda: self.finished.append(seen[0]))


@pytest.fixture
def host() -> PluginHost:
    module = types.ModuleType("tdtp_test_processors")

    @hookimpl
    def tdtp_register_processors(registry: Registrar) -> None:
        registry.add("suffix", f"{__name__}:Suffix")
        registry.add("reshape", f"{__name__}:Reshape")

    module.tdtp_register_processors = tdtp_register_processors  # type: ignore[attr-defined]
    plugin_host = PluginHost(autoload=False)
    plugin_host.register_module(module, dist_name="tdtp-test-processors")
    return plugin_host


# ----------------------------------------------------------------------- config


def test_bad_config_names_processor_and_json_path() -> None:
    with pytest.raises(ConfigError) as exc:
        Suffix({"fields": {"name": 5}})
    assert str(exc.value) == "processor 'suffix': $.fields.name: 5 is not of type 'string'"


def test_missing_config_key_names_processor() -> None:
    with pytest.raises(ConfigError, match=r"processor 'suffix': \$: 'fields' is a required"):
        Suffix({})


def test_unknown_field_is_config_error_before_rows_move() -> None:
    with pytest.raises(ConfigError, match=r"\$\.fields\.nmae: table 't' has no field 'nmae'"):
        Suffix({"fields": {"nmae": "x"}}).process(stream())


def test_field_found_case_insensitively() -> None:
    assert Suffix({"fields": {"NAME": "!"}}).process(stream()).rows()[0] == (1, "a!")


# ----------------------------------------------------------------------- chains


def test_chain_runs_in_given_order() -> None:
    chain = ProcessorChain([Suffix({"fields": {"name": "1"}}), Suffix({"fields": {"name": "2"}})])
    assert chain.apply(stream()).rows() == [(1, "a12"), (2, "b12"), (3, None)]
    chain = ProcessorChain([Suffix({"fields": {"name": "2"}}), Suffix({"fields": {"name": "1"}})])
    assert chain.apply(stream()).rows()[0] == (1, "a21")


def test_chain_applies_exactly_once_per_stream() -> None:
    chain = ProcessorChain([Suffix({"fields": {"name": "!"}})])
    once = chain.apply(stream())
    assert chain.apply(once) is once
    assert apply(once, chain).rows()[0] == (1, "a!")


def test_empty_chain_and_none_leave_stream_alone() -> None:
    s = stream()
    assert apply(s, None) is s
    assert ProcessorChain().apply(s) is s


def test_processor_may_rename_retype_add_and_drop_fields() -> None:
    with pytest.raises(ConfigError, match="no field 'name'"):  # renamed away before
        ProcessorChain([Reshape(), DropName()]).apply(stream())
    out = ProcessorChain([DropName()]).apply(stream())
    assert out.schema.names == ["id"] and out.rows() == [(1,), (2,), (3,)]
    out = ProcessorChain([Reshape()]).apply(stream())
    assert [(f.name, f.type) for f in out.schema] == [("id", "TEXT"), ("label", "TEXT"),
                                                      ("n", "INTEGER")]
    assert out.rows() == [("1", "a", 1), ("2", "b", 2), ("3", None, 3)]


def test_processing_streams_batch_by_batch() -> None:
    pulled: list[int] = []

    def source() -> Iterator[Batch]:
        for i in range(5):
            pulled.append(i)
            yield [(i, f"n{i}")]

    out = ProcessorChain([Suffix({"fields": {"name": "!"}}), Finisher()]).apply(
        TableStream(SCHEMA, source(), table="t"))
    batches = out.batches()
    assert next(batches) == [(0, "n0!")]
    assert pulled == [0]
    assert Finisher.finished == [] or Finisher.finished[-1] != 5
    assert sum(len(b) for b in batches) == 4
    assert Finisher.finished[-1] == 5


def test_packet_context_survives_processing() -> None:
    s = stream()
    s.metadata["message_ids"] = ["REF-1"]
    out = ProcessorChain([Suffix({"fields": {"name": "!"}})]).apply(s)
    assert out.table == "t" and out.metadata["message_ids"] == ["REF-1"]


# ----------------------------------------------------------------------- specs


def test_specs_resolve_through_registry(host: PluginHost) -> None:
    chain = ProcessorChain([ProcessorSpec("suffix", {"fields": {"name": "?"}})], host=host)
    assert [type(p) for p in chain] == [Suffix]


def test_missing_plugin_names_package() -> None:
    empty = PluginHost(autoload=False)
    with pytest.raises(PluginNotFound, match="pip install tdtp-processor-mask"):
        build_chain(mask=["email:email"], host=empty)
    with pytest.raises(PluginNotFound, match="tdtp-processor-validate"):
        build_chain(validate=["rules.yaml"], host=empty)


def test_unknown_processor_lists_available(host: PluginHost) -> None:
    with pytest.raises(PluginNotFound, match=r"'nosuch' \(available: reshape, suffix\)"):
        build_chain(process=["nosuch"], host=host)


def test_process_option_takes_json_config(host: PluginHost) -> None:
    chain = build_chain(process=['suffix:{"fields": {"name": "+"}}', "reshape"], host=host)
    assert chain.apply(stream()).rows()[0] == ("1", "a+", 1)


@pytest.mark.parametrize(("text", "message"), [
    ("suffix:{bad", "--process suffix:{bad: invalid JSON config"),
    ("suffix:[1]", "the config must be a JSON object"),
    (":{}", "expected NAME or NAME:JSON"),
])
def test_process_option_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("[", r"\[")):
        parse_option("process", text)


def test_process_config_error_names_option(host: PluginHost) -> None:
    with pytest.raises(ConfigError) as exc:
        build_chain(process=['suffix:{"fields": 1}'], host=host)
    assert str(exc.value).startswith("--process suffix:{\"fields\": 1}: processor 'suffix': "
                                     "$.fields: 1 is not of type 'object'")


def test_mask_and_normalize_options_parse() -> None:
    assert parse_option("mask", "email:hash:s:alt").config == {"fields": {"email": "hash:s:alt"}}
    assert parse_option("mask", "email, phone").config == {
        "fields": {"email": "auto", "phone": "auto"}}
    assert parse_option("normalize", "tel:e164:GB").config == {"fields": {"tel": "e164:GB"}}
    spec = parse_option("normalize", "rules.YAML")
    assert spec.file == Path("rules.YAML") and spec.config is None
    assert parse_option("validate", "checks.yml").file == Path("checks.yml")
    with pytest.raises(ConfigError, match="expected FIELD:KIND"):
        parse_option("normalize", "phone")


def test_build_chain_interleaves_by_order(host: PluginHost) -> None:
    chain = build_chain(
        process=['suffix:{"fields": {"name": "1"}}', "reshape",
                 'suffix:{"fields": {"label": "3"}}'],
        order=["process", "process", "process"], host=host)
    assert chain.apply(stream()).rows()[0] == ("1", "a13", 1)
    with pytest.raises(ValueError, match="order"):
        build_chain(process=["reshape"], order=["process", "process"], host=host)
    with pytest.raises(ValueError, match="order"):
        build_chain(process=["reshape"], order=[], host=host)


def test_adjacent_masks_share_one_processor() -> None:
    chain = build_chain(mask=["a:email", "b:card", "a:null"], order=["mask"] * 3)
    assert [p.config["fields"] for p in chain] == [{"a": "email", "b": "card"}, {"a": "null"}]


def test_default_order_cleans_checks_then_hides(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  name: required\n", encoding="utf-8")
    chain = build_chain(mask=["name:password"], normalize=["name:uppercase"],
                        validate=[str(rules)])
    assert chain.names == ["normalize", "validate", "mask"]


# ------------------------------------------------------------------- CLI options


def _recording_app(seen: list[ProcessorChain]) -> typer.Typer:
    app = typer.Typer()

    def run(other: str = "", mask: po.Mask = None, normalize: po.Normalize = None,
            validate: po.Validate = None, process: po.Process = None) -> None:
        seen.append(po.processor_chain(mask, normalize, validate, process))

    app.command("run", cls=po.ProcessingCommand)(run)
    app.command("other")(lambda: None)
    return app


def test_cli_records_option_order_across_kinds(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  name: required\n", encoding="utf-8")
    seen: list[ProcessorChain] = []
    result = CliRunner().invoke(_recording_app(seen), [
        "run", "--mask", "a:hash:s1", "--validate", str(rules), "--other", "x",
        "--mask=b:card", "--normalize", "c:email", "--normalize", "d:phone",
    ])
    assert result.exit_code == 0, result.output
    chain = seen[0]
    assert chain.names == ["mask", "validate", "mask", "normalize"]
    assert [p.config for p in chain][2:] == [{"fields": {"b": "card"}},
                                             {"fields": {"c": "email", "d": "phone"}}]


def test_cli_without_processor_options_builds_empty_chain() -> None:
    seen: list[ProcessorChain] = []
    result = CliRunner().invoke(_recording_app(seen), ["run"])
    assert result.exit_code == 0, result.output
    assert len(seen[0]) == 0


def test_unrecorded_order_of_several_kinds_is_a_bug() -> None:
    with pytest.raises(RuntimeError, match="ProcessingCommand"):
        po.processor_chain(["a:email"], ["b:email"])


def test_processor_options_module_imports_nothing_heavy() -> None:
    import subprocess

    code = ("import sys, tdtp_core.cli.processor_options; print(sorted(m for m in "
            "('jsonschema', 'yaml', 'lxml', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
