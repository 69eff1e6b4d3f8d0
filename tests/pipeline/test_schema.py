"""The pipeline file: every key checked, every error names the file, the line and the key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tdtp_core.errors import ConfigError
from tdtp_core.pipeline import PipelineConfigError, parse_pipeline, pipeline_schema
from tdtp_core.pipeline.schema import REFERENCE_KEYS

GOOD = """\
name: p
version: "2.1"
description: d
variables:
  since: {type: timestamp, default: "2026-01-01T00:00:00Z", description: x}
  n: {type: integer, default: 3}
  price: {type: decimal, default: "1.50"}
  flag: {type: boolean, default: true}
  day: {type: date, default: "2026-01-02"}
  at: {type: time, default: "08:30:00"}
  ratio: {type: number, default: 0.5}
  who: {type: string, default: "O'Brien"}
sources:
  - name: orders
    url: sqlite:///shop.db
    table: orders
    timeout: 30
    on_error: fail
  - name: recent
    url: sqlite:///shop.db
    query: SELECT * FROM orders WHERE updated_at > :since AND id > :n
  - name: customers
    file: data/customers.csv
    options: {delimiter: ","}
    on_error: skip
  - name: incoming
    broker: amqp://guest:guest@localhost/%2F?queue=q
    timeout: 5
workspace:
  type: sqlite
  mode: file
  path: work.db
transform:
  steps:
    - result_table: joined
      sql: SELECT o.id, c.email FROM orders o JOIN customers c ON c.customer = o.customer
      key: [id]
      types: {id: INTEGER}
    - sql: SELECT * FROM joined WHERE id > :n
  timeout: 60
processors:
  - type: field_masker
    params: {fields: {email: partial}}
outputs:
  - type: TDTP
    destination: out/r.tdtp.xml
    format: xml
    compress: true
    compress_level: 5
    integrity: true
    compact: false
    fixed_fields: [id]
    part_size: 1MB
  - type: xlsx
    destination: out/r.xlsx
    sheet: R
    options: {header_types: true}
  - type: csv
    destination: out/r.csv
    options: {delimiter: ";"}
  - type: database
    result_table: joined
    url: sqlite:///target.db
    table: t
    strategy: copy
    create: true
  - type: RabbitMQ
    url: amqp://guest:guest@localhost/%2F?queue=out
  - type: kafka
    url: kafka://localhost:9092/topic
    part_size: 500000
error_handling:
  on_source_error: continue
  on_transform_error: fail
  on_output_error: fail
resilience:
  retry: {enabled: true, max_attempts: 3, initial_wait: 0.1, max_wait: 1, max_time: 5,
          multiplier: 2}
  circuit_breaker: {enabled: true, threshold: 2, cooldown: 1, success_threshold: 1}
performance:
  parallel_sources: 2
  batch_size: 100
"""


def problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(PipelineConfigError) as info:
        parse_pipeline(text, file="pipeline.yaml", **kwargs)  # type: ignore[arg-type]
    assert all(re.match(r"^pipeline\.yaml:\d+: ", p) for p in info.value.problems), (
        info.value.problems)
    return info.value.problems


def one(text: str, **kwargs: object) -> str:
    found = problems(text, **kwargs)
    assert len(found) == 1, found
    return found[0]


def test_every_key_of_a_full_pipeline_loads(tmp_path: Path) -> None:
    p = parse_pipeline(GOOD, file=tmp_path / "p.yaml")
    assert p.name == "p" and p.version == "2.1"
    assert [s.kind for s in p.sources] == ["table", "query", "file", "broker"]
    assert p.sources[2].on_error == "skip" and p.sources[0].on_error == "fail"
    assert p.sources[3].on_error == "skip"  # continue is the reference's skip
    assert p.sources[0].url == f"sqlite:///{tmp_path / 'shop.db'}"  # relative to the file
    assert p.sources[2].file == tmp_path / "data/customers.csv"
    assert p.workspace_path == tmp_path / "work.db"
    assert [s.result_table for s in p.steps] == ["joined", "result"]
    assert p.steps[0].key == ("id",)
    assert [o.type for o in p.outputs] == ["tdtp", "xlsx", "csv", "database", "rabbitmq",
                                           "kafka"]
    assert p.outputs[0].packet == {"compress": "zstd", "compress_level": 5, "integrity": True,
                                   "compact": False, "fixed_fields": ["id"],
                                   "part_size": 1024 * 1024}
    assert p.outputs[3].result_table == "joined" and p.outputs[3].strategy == "copy"
    assert p.parallel == 2 and p.batch_size == 100
    assert p.resilience.retry.max_attempts == 3 and p.resilience.breaker.threshold == 2
    assert p.variables["price"].text == "1.50"
    assert [item.processor.name for item in p.processors] == ["mask"]


def test_schema_is_package_data_and_forbids_unknown_keys() -> None:
    schema = pipeline_schema()
    assert schema["additionalProperties"] is False
    for definition in schema["$defs"].values():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition["additionalProperties"] is False


MINIMAL = """\
name: p
sources:
  - name: a
    file: a.csv
transform:
  sql: SELECT * FROM a
outputs:
  - type: csv
    destination: out.csv
"""


@pytest.mark.parametrize(("text", "expected"), [
    (MINIMAL.replace("name: p\n", "name: p\ncolour: red\n"),
     "pipeline.yaml:2: colour: unknown key 'colour' (known: "),
    (MINIMAL.replace("    file: a.csv\n", "    file: a.csv\n    tabel: x\n"),
     "pipeline.yaml:5: sources[0].tabel: unknown key 'tabel'"),
    (MINIMAL.replace("name: p\n", ""), "pipeline.yaml:1: $: missing required key 'name'"),
    (MINIMAL.replace("  sql: SELECT * FROM a\n", "  sql: 5\n"),
     "pipeline.yaml:6: transform.sql: expected a string, got 5"),
    (MINIMAL.replace("type: csv", "type: [csv]"),
     "pipeline.yaml:8: outputs[0].type: expected a string, got a list"),
    (MINIMAL.replace("- name: a", "- name: 1a"),
     "pipeline.yaml:3: sources[0].name: '1a' is not a valid name"),
    (MINIMAL + "workspace: {type: duckdb}\n",
     "pipeline.yaml:10: workspace.type: must be one of sqlite, got 'duckdb'"),
    (MINIMAL + "performance: {batch_size: 0}\n",
     "pipeline.yaml:10: performance.batch_size: must be >= 1, got 0"),
    (MINIMAL + "transform2: x\n", "pipeline.yaml:10: transform2: unknown key"),
    (MINIMAL.replace("outputs:\n  - type: csv\n    destination: out.csv\n", "outputs: []\n"),
     "pipeline.yaml:7: outputs: needs at least 1 item(s)"),
    (MINIMAL + "variables:\n  9x: {type: string}\n",
     "pipeline.yaml:11: variables.9x: '9x' is not a valid name"),
    (MINIMAL + "variables:\n  x: {type: money}\n",
     "pipeline.yaml:11: variables.x.type: must be one of string, integer"),
    (MINIMAL + "resilience: {retry: {max_attempt: 3}}\n",
     "pipeline.yaml:10: resilience.retry.max_attempt: unknown key"),
    (MINIMAL + "error_handling: {on_source_error: ignore}\n",
     "pipeline.yaml:10: error_handling.on_source_error: must be one of fail, skip, continue"),
    (MINIMAL.replace("    file: a.csv\n", "    file: a.csv\n    timeout: 0\n"),
     "pipeline.yaml:5: sources[0].timeout: must be > 0, got 0"),
    (MINIMAL.replace("    destination: out.csv\n", "    destination: out.csv\n"
                     "    compress_level: 30\n"),
     "pipeline.yaml:10: outputs[0].compress_level: must be <= 22, got 30"),
])
def test_schema_errors_name_line_and_path(text: str, expected: str) -> None:
    assert one(text).startswith(expected)


def test_all_errors_are_reported_at_once_in_line_order() -> None:
    text = MINIMAL.replace("name: p\n", "name: p\nfoo: 1\n").replace(
        "type: csv", "type: csv\n    bar: 2")
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["2", "10"]


@pytest.mark.parametrize(("context", "key"), [
    (c, k) for c, keys in REFERENCE_KEYS.items() for k in keys])
def test_reference_keys_are_rejected_with_the_reason(context: str, key: str) -> None:
    base = {
        "": MINIMAL + f"{key}: x\n",
        "sources": MINIMAL.replace("    file: a.csv\n", f"    file: a.csv\n    {key}: x\n"),
        "workspace": MINIMAL + f"workspace:\n  {key}: x\n",
        "outputs": MINIMAL + f"    {key}: x\n",
        "error_handling": MINIMAL + f"error_handling:\n  {key}: 3\n",
        "performance": MINIMAL + f"performance:\n  {key}: 3\n",
    }[context]
    message = one(base)
    assert f"key '{key}' is not supported: {REFERENCE_KEYS[context][key]}" in message


def test_reference_processor_section_gets_a_hint() -> None:
    text = MINIMAL + "processors:\n  pre_export:\n    - type: field_masker\n"
    assert "processors.pre_export list goes directly under processors" in one(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("", "pipeline.yaml:1: the file is empty"),
    ("name: [1, 2\n", "pipeline.yaml:2: invalid YAML"),
    ("name: a\nname: b\n", "pipeline.yaml:2: name: the key appears twice"),
    ("- a\n- b\n", "pipeline.yaml:1: $: a pipeline is a mapping"),
    ("a: &x {b: 1}\nc:\n  <<: *x\n", "pipeline.yaml:3: c: YAML merge keys"),
    ("name: !!binary aGk=\n", "pipeline.yaml:1: name: unsupported YAML tag"),
    ("name: !custom x\n", "pipeline.yaml:1: name: unsupported YAML tag !custom"),
    ("? [a]\n: b\n", "pipeline.yaml:1: $: a key must be plain text"),
])
def test_yaml_problems_name_the_line(text: str, expected: str) -> None:
    assert one(text).startswith(expected)


def test_a_document_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    assert "expands to more than" in one("\n".join(lines) + "\n")


def test_dates_and_yes_no_keys_stay_text() -> None:
    text = MINIMAL.replace("name: p", "name: 2024-13-01") + \
        "variables:\n  on: {type: date, default: 2026-01-02}\n"
    p = parse_pipeline(text, file="pipeline.yaml")
    assert p.name == "2024-13-01"
    assert str(p.variables["on"].value) == "2026-01-02"
    assert one(MINIMAL.replace("name: p", "name: yes")).startswith(
        "pipeline.yaml:1: name: expected a string, got true")


# ---------------------------------------------------------------------- semantic rules


def source_problem(source_yaml: str) -> str:
    text = MINIMAL.replace("  - name: a\n    file: a.csv\n", source_yaml)
    return one(text)


@pytest.mark.parametrize(("source", "expected"), [
    ("  - name: a\n", "pipeline.yaml:3: sources[0]: nothing to read"),
    ("  - name: a\n    table: t\n", "pipeline.yaml:3: sources[0]: missing url"),
    ("  - name: a\n    url: sqlite:///x.db\n",
     "pipeline.yaml:4: sources[0].url: a database source needs table or query"),
    ("  - name: a\n    url: sqlite:///x.db\n    table: t\n    query: SELECT 1\n",
     "pipeline.yaml:6: sources[0].query: give table or query, not both"),
    ("  - name: a\n    file: a.csv\n    broker: amqp://h/%2F?queue=q\n",
     "pipeline.yaml:5: sources[0].broker: a source reads one thing"),
    ("  - name: a\n    file: a.csv\n    table: t\n",
     "pipeline.yaml:5: sources[0].table: 'table' reads a database"),
    ("  - name: a\n    url: sqlite:///x.db\n    table: t\n    options: {}\n",
     "pipeline.yaml:6: sources[0].options: options are for file sources"),
    ("  - name: a\n    url: nosuchname\n    table: t\n",
     "pipeline.yaml:4: sources[0].url: 'nosuchname' is neither a database URL"),
    ("  - name: a\n    broker: queue-name\n",
     "pipeline.yaml:4: sources[0].broker: 'queue-name' is neither"),
])
def test_source_rules(source: str, expected: str) -> None:
    assert source_problem(source).startswith(expected)


def test_source_names_are_unique_and_not_reserved() -> None:
    text = MINIMAL.replace("  - name: a\n    file: a.csv\n",
                           "  - name: a\n    file: a.csv\n  - name: A\n    file: b.csv\n"
                           "  - name: tdtp_x\n    file: c.csv\n")
    found = problems(text)
    assert any(p.startswith("pipeline.yaml:5: sources[1].name: source 'A' is already "
                            "defined at sources[0]") for p in found)
    assert any(p.startswith("pipeline.yaml:7: sources[2].name: names starting with 'tdtp_'")
               for p in found)


@pytest.mark.parametrize(("transform", "expected"), [
    ("transform:\n  timeout: 5\n", "pipeline.yaml:5: transform: needs sql"),
    ("transform:\n  sql: SELECT 1\n  steps:\n    - sql: SELECT 2\n",
     "pipeline.yaml:6: transform.sql: goes into each step"),
    ("transform:\n  steps:\n    - sql: SELECT 1\n    - sql: SELECT 2\n",
     "pipeline.yaml:7: transform.steps[0]: needs result_table"),
    ("transform:\n  result_table: a\n  sql: SELECT 1\n",
     "pipeline.yaml:6: transform.result_table: 'a' is already the name of a source"),
    ("transform:\n  sql: SELECT * FROM a WHERE x > :nope\n",
     "pipeline.yaml:6: transform.sql: parameter :nope is not a declared variable"),
    ("transform:\n  sql: SELECT * FROM a WHERE x > ?\n",
     "pipeline.yaml:6: transform.sql: parameter ?: write variables as :name"),
    ("transform:\n  sql: SELECT * FROM a WHERE x = '${USER}'\n",
     "pipeline.yaml:6: transform.sql: ${USER} would splice text into SQL"),
    ("transform:\n  sql: SELECT 1 AS x\n  types: {x: MONEY}\n",
     "pipeline.yaml:7: transform.types.x: 'MONEY' is not a TDTP type"),
    ("transform:\n  sql: SELECT 1 AS x\n  types: {x: 'DECIMAL(50,2)'}\n",
     "pipeline.yaml:7: transform.types.x: field 'x': DECIMAL(50,2) needs"),
])
def test_transform_rules(transform: str, expected: str) -> None:
    text = MINIMAL.replace("transform:\n  sql: SELECT * FROM a\n", transform)
    assert one(text).startswith(expected)


def test_parameters_inside_literals_and_emails_are_not_parameters() -> None:
    text = MINIMAL.replace("SELECT * FROM a",
                           "SELECT * FROM a WHERE e <> 'x@example.com' AND t <> ':nope'"
                           " -- :nope too")
    parse_pipeline(text, file="pipeline.yaml")


def test_source_query_parameters_must_be_variables() -> None:
    found = source_problem("  - name: a\n    url: sqlite:///x.db\n"
                           "    query: SELECT * FROM t WHERE a > :since\n")
    assert found.startswith("pipeline.yaml:5: sources[0].query: parameter :since is not")


@pytest.mark.parametrize(("output", "expected"), [
    ("  - type: Excel\n    destination: x.xlsx\n",
     "pipeline.yaml:8: outputs[0].type: unsupported output type 'excel', must be one of: "
     "tdtp, xlsx, csv, database, rabbitmq, kafka, broker"),
    ("  - type: tdtp\n", "pipeline.yaml:8: outputs[0]: a tdtp output needs 'destination'"),
    ("  - type: database\n    url: sqlite:///x.db\n    compress: true\n",
     "pipeline.yaml:10: outputs[0].compress: 'compress' is not an option of a database"),
    ("  - type: csv\n    destination: x.csv\n    result_table: nope\n",
     "pipeline.yaml:10: outputs[0].result_table: no source or transform result is named"),
    ("  - type: tdtp\n    destination: x.xml\n    compress: lz4\n",
     "pipeline.yaml:10: outputs[0].compress: unknown codec 'lz4'"),
    ("  - type: tdtp\n    destination: x.xml\n    part_size: 10 parsecs\n",
     "pipeline.yaml:10: outputs[0].part_size: '10 parsecs' is not a size"),
    ("  - type: rabbitmq\n    url: kafka://h:9092/t\n",
     "pipeline.yaml:9: outputs[0].url: a rabbitmq output needs a amqp:// URL"),
    ("  - type: database\n    url: sqlite:///x.db\n    strategy: merge\n",
     "pipeline.yaml:10: outputs[0].strategy: must be one of replace, ignore, fail, copy"),
])
def test_output_rules(output: str, expected: str) -> None:
    text = MINIMAL.replace("  - type: csv\n    destination: out.csv\n", output)
    assert one(text).startswith(expected)


def test_output_type_is_case_insensitive_regression_12_1() -> None:
    for spelled in ("TDTP", "Tdtp", "tdtp"):
        text = MINIMAL.replace("type: csv\n    destination: out.csv",
                               f"type: {spelled}\n    destination: out.xml")
        assert parse_pipeline(text, file="p.yaml").outputs[0].type == "tdtp"
    text = MINIMAL.replace("type: csv\n    destination: out.csv",
                           "type: RabbitMQ\n    url: amqp://g:g@h/%2F?queue=q")
    assert parse_pipeline(text, file="p.yaml").outputs[0].type == "rabbitmq"
    text = MINIMAL.replace("type: csv\n    destination: out.csv",
                           "type: KAFKA\n    url: kafka://h:9092/t")
    assert parse_pipeline(text, file="p.yaml").outputs[0].type == "kafka"


def test_processor_config_errors_point_into_params() -> None:
    text = MINIMAL + "processors:\n  - type: mask\n    params:\n      fields:\n" \
                     "        email: scramble\n"
    assert one(text).startswith("pipeline.yaml:14: processors[0].params.fields.email: ")
    assert one(MINIMAL + "processors:\n  - type: shred\n").startswith(
        "pipeline.yaml:11: processors[0].type: unknown processor 'shred'")


def test_workspace_rules() -> None:
    assert one(MINIMAL + "workspace: {mode: file}\n").startswith(
        "pipeline.yaml:10: workspace.mode: mode file needs a path")
    assert one(MINIMAL + "workspace: {mode: memory, path: w.db}\n").startswith(
        "pipeline.yaml:10: workspace.path: a path makes a file workspace")


# ------------------------------------------------------------------------- variables

VARS = MINIMAL + """\
variables:
  since: {type: timestamp}
  n: {type: integer, default: "x"}
"""


def test_variables_are_typed_and_required() -> None:
    found = problems(VARS)
    assert found[0].startswith("pipeline.yaml:11: variables.since: variable 'since' needs a "
                               "value: give --var since=VALUE")
    assert found[1].startswith("pipeline.yaml:12: variables.n.default: default: 'x' is not a "
                               "valid integer")


def test_var_values_are_parsed_by_type() -> None:
    text = VARS.replace('default: "x"', "default: 2")
    p = parse_pipeline(text, file="p.yaml", variables={"since": "2026-01-01T10:00:00+02:00"})
    assert p.variables["since"].value.isoformat() == "2026-01-01T08:00:00+00:00"
    assert p.variables["n"].value == 2
    message = one(text, variables={"since": "yesterday"})
    assert message.startswith("pipeline.yaml:11: variables.since: --var since: 'yesterday' is "
                              "not a valid timestamp")
    message = one(text, variables={"since": "2026-01-01", "sincee": "1"})
    assert "--var sincee: no such variable is declared (declared: n, since)" in message


def test_interpolation_from_variables_then_environment() -> None:
    text = MINIMAL.replace("file: a.csv", "file: ${dir}/${ENV_DIR}/${MISSING:-x}.csv") + \
        "variables:\n  dir: {type: string, default: d}\n"
    p = parse_pipeline(text, file="/base/p.yaml", env={"ENV_DIR": "e"})
    assert p.sources[0].file == Path("/base/d/e/x.csv")
    message = one(text, env={})
    assert message.startswith("pipeline.yaml:4: sources[0].file: ${ENV_DIR} is neither a "
                              "declared variable nor a set environment variable")


def test_defaults_may_come_from_the_environment() -> None:
    text = MINIMAL + "variables:\n  d: {type: date, default: '${DAY:-2026-02-03}'}\n"
    assert str(parse_pipeline(text, file="p.yaml", env={}).variables["d"].value) == \
        "2026-02-03"
    assert str(parse_pipeline(text, file="p.yaml", env={"DAY": "2027-01-01"}).variables[
        "d"].value) == "2027-01-01"


def test_load_errors_are_config_errors(tmp_path: Path) -> None:
    from tdtp_core.pipeline import load_pipeline

    with pytest.raises(ConfigError, match="not found"):
        load_pipeline(tmp_path / "nope.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_pipeline(tmp_path / "bin.yaml")


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from tdtp_core.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["pipeline", "schema"])
    assert info.value.code == 0
    assert json.loads(capsys.readouterr().out) == pipeline_schema()
