"""Every rule with its exact failure text, the policies (fail, drop, reject, warn), the
reject packet, rule files and their errors, order independence and a light import."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tdtp_processor_validate.processor import ValidateProcessor

from tdtp_core import Field, Schema, TableStream, read_packets
from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.packet.rejects import REJECT_FIELDS
from tdtp_core.processors import build_chain


def failures(rule: Any, *values: Any, type_: str = "TEXT", **field: Any) -> list[str]:
    """The failure messages of ``rule`` on a one-field table, one per failing row."""
    schema = Schema([Field("v", type_, **field)])
    stream = TableStream.from_rows(schema, [(v,) for v in values], table="t")
    processor = ValidateProcessor({"rules": {"v": rule}, "on_error": "fail"})
    try:
        processor.process(stream).rows()
    except SchemaError as exc:
        text = str(exc).removeprefix("t: ")
        head, _, listed = text.partition(": ")
        assert head.startswith("validation failed with")
        return listed.split("; ")
    return []


def test_required() -> None:
    assert failures("required", "x", "", "  ", None) == [
        "row 2, field 'v', rule 'required', value '': field is required but empty",
        "row 3, field 'v', rule 'required', value '  ': field is required but empty",
        "row 4, field 'v', rule 'required', value NULL: field is required but empty",
    ]
    assert failures("required", 0, type_="INTEGER") == []


def test_regex_matches_anywhere_unless_anchored() -> None:
    assert failures("regex:[0-9]", "a1b", "abc") == [
        "row 2, field 'v', rule 'regex:[0-9]', value 'abc': "
        "value 'abc' does not match pattern '[0-9]'"]
    assert failures("regex:^[A-Z]{3}-\\d{5}$", "ABC-12345", "xABC-12345") == [
        "row 2, field 'v', rule 'regex:^[A-Z]{3}-\\d{5}$', value 'xABC-12345': "
        "value 'xABC-12345' does not match pattern '^[A-Z]{3}-\\d{5}$'"]


def test_range() -> None:
    assert failures("range:0-150", "0", "150", "150.5", "-1", "abc", "") == [
        "row 3, field 'v', rule 'range:0-150', value '150.5': "
        "value 150.5 is out of range [0, 150]",
        "row 4, field 'v', rule 'range:0-150', value '-1': value -1 is out of range [0, 150]",
        "row 5, field 'v', rule 'range:0-150', value 'abc': value 'abc' is not a valid number",
        "row 6, field 'v', rule 'range:0-150', value '': value '' is not a valid number",
    ]


def test_range_with_negative_bounds() -> None:
    assert failures("range:-10--5", "-10", "-5", "-7.5", "-4", "-11") == [
        "row 4, field 'v', rule 'range:-10--5', value '-4': value -4 is out of range [-10, -5]",
        "row 5, field 'v', rule 'range:-10--5', value '-11': "
        "value -11 is out of range [-10, -5]",
    ]
    assert failures("range:-5-5", "-5", "5", "0") == []
    assert failures("range:-1.5-2e1", "20", "21") == [
        "row 2, field 'v', rule 'range:-1.5-2e1', value '21': "
        "value 21 is out of range [-1.5, 2e1]"]


def test_range_on_typed_numbers_is_exact() -> None:
    assert failures("range:0-0.1", Decimal("0.1"), Decimal("0.10000000001"),
                    type_="DECIMAL", scale=11) == [
        "row 2, field 'v', rule 'range:0-0.1', value '0.10000000001': "
        "value 0.10000000001 is out of range [0, 0.1]"]
    assert failures("range:1-3", 2, 4, None, type_="INTEGER") == [
        "row 2, field 'v', rule 'range:1-3', value '4': value 4 is out of range [1, 3]",
        "row 3, field 'v', rule 'range:1-3', value NULL: value '' is not a valid number",
    ]
    assert failures("range:0-1", float("nan"), type_="REAL") == [
        "row 1, field 'v', rule 'range:0-1', value 'NaN': value 'NaN' is not a valid number"]


def test_range_object_form_with_open_bound() -> None:
    assert failures({"type": "range", "min": -3}, "-3", "1000000", "-4") == [
        "row 3, field 'v', rule 'range', value '-4': value -4 is out of range [-3, inf]"]


def test_length_counts_characters() -> None:
    assert failures("length:2-4", "ab", "日本語", "ёжик", "a", "12345") == [
        "row 4, field 'v', rule 'length:2-4', value 'a': length 1 is out of range [2, 4]",
        "row 5, field 'v', rule 'length:2-4', value '12345': length 5 is out of range [2, 4]",
    ]


def test_enum_and_one_of() -> None:
    expected = ["row 2, field 'v', rule 'enum:active, inactive', value 'Active': "
                "value 'Active' is not in allowed list [active,inactive]"]
    assert failures("enum:active, inactive", "active", "Active") == expected
    assert failures({"type": "one_of", "values": ["a", 1]}, "a", "1", "b") == [
        "row 3, field 'v', rule 'one_of', value 'b': value 'b' is not in allowed list [a,1]"]


def test_email() -> None:
    assert failures("email", "a.b+c@x-y.io", "a@b", "@x.io", "a@x.io\n") == [
        "row 2, field 'v', rule 'email', value 'a@b': invalid email format: 'a@b'",
        "row 3, field 'v', rule 'email', value '@x.io': invalid email format: '@x.io'",
        "row 4, field 'v', rule 'email', value 'a@x.io\\n': invalid email format: 'a@x.io\n'",
    ]


def test_phone() -> None:
    assert failures("phone", "+1 (555) 123-4567", "555-1234", "12345",
                    "+1234567890123456") == [
        "row 3, field 'v', rule 'phone', value '12345': invalid phone format: '12345'",
        "row 4, field 'v', rule 'phone', value '+1234567890123456': "
        "invalid phone format: '+1234567890123456'",
    ]


def test_url() -> None:
    assert failures("url", "https://x.io/a?b", "http://localhost", "ftp://x.io") == [
        "row 3, field 'v', rule 'url', value 'ftp://x.io': invalid URL format: 'ftp://x.io'"]


def test_date() -> None:
    assert failures("date", "2024-02-31", "2024-13-01", "2024-01-32", "1899-12-31",
                    "24-01-01", "2024-01-01") == [
        "row 2, field 'v', rule 'date', value '2024-13-01': invalid month: 13",
        "row 3, field 'v', rule 'date', value '2024-01-32': invalid day: 32",
        "row 4, field 'v', rule 'date', value '1899-12-31': invalid year: 1899",
        "row 5, field 'v', rule 'date', value '24-01-01': "
        "invalid date format: '24-01-01' (expected YYYY-MM-DD)",
    ]
    assert failures("date", date(2024, 5, 6), type_="DATE") == []


def test_date_with_format() -> None:
    assert failures("date:%d.%m.%Y", "31.12.2024", "2024-12-31", "30.02.2024") == [
        "row 2, field 'v', rule 'date:%d.%m.%Y', value '2024-12-31': "
        "invalid date format: '2024-12-31' (expected %d.%m.%Y)",
        "row 3, field 'v', rule 'date:%d.%m.%Y', value '30.02.2024': "
        "invalid date format: '30.02.2024' (expected %d.%m.%Y)",
    ]


def test_unique_across_batches() -> None:
    schema = Schema([Field("v", "TEXT")])
    stream = TableStream.from_rows(schema, [("a",), ("b",), (None,), ("a",), (None,), ("b",)],
                                   table="t", batch_size=2)
    processor = ValidateProcessor({"rules": {"v": "unique"}, "on_error": "drop"})
    assert processor.process(stream).rows() == [("a",), ("b",), (None,), (None,)]
    assert processor.stats == {"rows": 6, "passed": 4, "dropped": 2, "rejected": 0,
                               "warned": 0}
    assert failures("unique", "x", "y", "x") == [
        "row 3, field 'v', rule 'unique', value 'x': value 'x' is not unique (first in row 1)"]


def test_custom_error_message() -> None:
    assert failures({"type": "regex:^[A-Z]+$", "error": "bad SKU"}, "abc") == [
        "row 1, field 'v', rule 'regex:^[A-Z]+$', value 'abc': bad SKU"]


def test_empty_values_are_validated_unless_allowed() -> None:
    assert len(failures("email", "", None)) == 2
    schema = Schema([Field("v", "TEXT")])
    rows = [("",), (None,), ("bad",)]
    processor = ValidateProcessor({"rules": {"v": ["email", "required"]}, "allow_empty": True})
    with pytest.raises(SchemaError) as exc:
        processor.process(TableStream.from_rows(schema, rows, table="t")).rows()
    assert "3 error(s)" in str(exc.value)  # required still fails rows 1-2, email row 3


# ---------------------------------------------------------------------- policies

SCHEMA = Schema([Field("id", "INTEGER", key=True), Field("email", "TEXT"),
                 Field("age", "INTEGER")])
ROWS = [(1, "a@x.io", 30), (2, "bad", 40), (3, "c@x.io", 200), (4, "bad", -1), (5, "e@x.io", 5)]


def run(config: dict[str, Any], rows: list[tuple[Any, ...]] = ROWS) -> list[tuple[Any, ...]]:
    return ValidateProcessor(config).process(
        TableStream.from_rows(SCHEMA, rows, table="users", batch_size=2)).rows()


def test_fail_lists_every_error_in_schema_then_rule_order() -> None:
    config = {"rules": {"age": "range:0-150", "email": "email"}}
    with pytest.raises(SchemaError) as exc:
        run(config)
    assert str(exc.value) == (
        "users: validation failed with 4 error(s): "
        "row 2, field 'email', rule 'email', value 'bad': invalid email format: 'bad'; "
        "row 3, field 'age', rule 'range:0-150', value '200': "
        "value 200 is out of range [0, 150]; "
        "row 4, field 'email', rule 'email', value 'bad': invalid email format: 'bad'; "
        "row 4, field 'age', rule 'range:0-150', value '-1': value -1 is out of range [0, 150]")


def test_results_do_not_depend_on_rule_file_order() -> None:
    a = {"rules": {"age": "range:0-150", "email": "email"}}
    b = {"rules": {"email": "email", "age": "range:0-150"}}
    messages = []
    for config in (a, b):
        with pytest.raises(SchemaError) as exc:
            run(config)
        messages.append(str(exc.value))
    assert messages[0] == messages[1]


def test_fail_passes_no_row_after_the_first_error() -> None:
    processor = ValidateProcessor({"rules": {"email": "email"}})
    batches = processor.process(
        TableStream.from_rows(SCHEMA, ROWS, table="users", batch_size=2)).batches()
    assert next(batches) == [(1, "a@x.io", 30)]
    with pytest.raises(SchemaError):
        list(batches)


def test_stop_on_first_error() -> None:
    with pytest.raises(SchemaError) as exc:
        run({"rules": {"email": "email", "age": "range:0-150"}, "stop_on_first_error": True})
    assert str(exc.value) == ("users: validation failed: row 2, field 'email', rule 'email', "
                              "value 'bad': invalid email format: 'bad'")


def test_many_errors_are_cut_short() -> None:
    rows = [(i, "bad", 1) for i in range(25)]
    with pytest.raises(SchemaError, match=r"with 25 error\(s\): .*; and 15 more$"):
        run({"rules": {"email": "email"}}, rows)


def test_drop_and_filter(capsys: pytest.CaptureFixture[str]) -> None:
    for policy in ("drop", "filter"):
        assert run({"rules": {"email": "email"}, "on_error": policy}) == [
            (1, "a@x.io", 30), (3, "c@x.io", 200), (5, "e@x.io", 5)]
    assert "3 row(s) passed, 2 dropped, 0 rejected" in capsys.readouterr().err


def test_warn_keeps_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert run({"rules": {"email": "email"}, "on_error": "warn"}) == ROWS
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "tdtp: warning: validate: row 2, field 'email', rule 'email', value 'bad': "
        "invalid email format: 'bad'",
        "tdtp: warning: validate: row 4, field 'email', rule 'email', value 'bad': "
        "invalid email format: 'bad'",
    ]


def test_policy_per_rule_most_severe_wins(tmp_path: Path) -> None:
    config = {"rules": {"email": {"type": "email", "on_error": "drop"},
                        "age": {"type": "range:0-150", "on_error": "reject"}},
              "reject": str(tmp_path / "rejects.tdtp.xml")}
    assert run(config) == [(1, "a@x.io", 30), (5, "e@x.io", 5)]
    rejected = read_packets(tmp_path / "rejects.tdtp.xml").rows()
    assert [r[0] for r in rejected] == [3, 4]  # row 4 fails both: reject beats drop


def test_reject_packet_lists_failure_and_keeps_the_row(tmp_path: Path) -> None:
    target = tmp_path / "rejects.tdtp.xml"
    kept = run({"rules": {"email": "email", "age": "range:0-150"}, "on_error": "reject",
                "reject": str(target)})
    assert kept == [(1, "a@x.io", 30), (5, "e@x.io", 5)]
    rejects = read_packets(target)
    assert rejects.header is not None and rejects.header.packet_type == "error"
    assert rejects.table == "users"
    assert rejects.schema.names == [f.name for f in REJECT_FIELDS] + ["id", "email", "age"]
    assert [f.type for f in rejects.schema][5:] == ["INTEGER", "TEXT", "INTEGER"]
    assert rejects.schema.field("id").key
    assert rejects.rows() == [
        (2, "email", "email", "bad",
         "row 2, field 'email', rule 'email', value 'bad': invalid email format: 'bad'",
         2, "bad", 40),
        (3, "age", "range:0-150", "200",
         "row 3, field 'age', rule 'range:0-150', value '200': "
         "value 200 is out of range [0, 150]", 3, "c@x.io", 200),
        (4, "email", "email", "bad",
         "row 4, field 'email', rule 'email', value 'bad': invalid email format: 'bad'; "
         "row 4, field 'age', rule 'range:0-150', value '-1': "
         "value -1 is out of range [0, 150]", 4, "bad", -1),
    ]


def test_rejected_rows_can_be_reimported_after_a_fix(tmp_path: Path) -> None:
    target = tmp_path / "rejects.tdtp.xml"
    run({"rules": {"email": "email"}, "on_error": "reject", "reject": str(target)})
    rejects = read_packets(target)
    fixed = [(rid, email.replace("bad", f"fixed{rid}@x.io"), age)
             for *_, rid, email, age in rejects]
    again = ValidateProcessor({"rules": {"email": "email"}}).process(
        TableStream.from_rows(SCHEMA, fixed, table="users")).rows()
    assert again == [(2, "fixed2@x.io", 40), (4, "fixed4@x.io", -1)]


def test_every_stream_that_rejects_gets_its_own_numbered_file(tmp_path: Path) -> None:
    processor = ValidateProcessor({"rules": {"email": "email"}, "on_error": "reject",
                                   "reject": str(tmp_path / "rj.tdtp.xml")})
    for rows in (ROWS[:2], ROWS[2:3], ROWS[3:]):  # the middle one rejects nothing
        processor.process(TableStream.from_rows(SCHEMA, rows, table="users")).rows()
    assert processor.reject_files == [tmp_path / "rj.tdtp.xml", tmp_path / "rj_2.tdtp.xml"]
    assert [r[5:] for r in read_packets(tmp_path / "rj.tdtp.xml")] == [(2, "bad", 40)]
    assert [r[5:] for r in read_packets(tmp_path / "rj_2.tdtp.xml")] == [(4, "bad", -1)]


def test_numbered_reject_file_keeps_any_extension(tmp_path: Path) -> None:
    processor = ValidateProcessor({"rules": {"email": "email"}, "on_error": "reject",
                                   "reject": str(tmp_path / "rejects.xml")})
    for _ in range(2):
        processor.process(TableStream.from_rows(SCHEMA, ROWS, table="users")).rows()
    assert processor.reject_files == [tmp_path / "rejects.xml", tmp_path / "rejects_2.xml"]


def test_no_reject_packet_when_nothing_rejected(tmp_path: Path) -> None:
    target = tmp_path / "rejects.tdtp.xml"
    run({"rules": {"id": "required"}, "on_error": "reject", "reject": str(target)})
    assert not target.exists()


def test_reject_needs_a_path() -> None:
    with pytest.raises(ConfigError, match=r"\$\.reject: rules with on_error 'reject' need"):
        ValidateProcessor({"rules": {"email": {"type": "email", "on_error": "reject"}}})


def test_unknown_field_is_config_error() -> None:
    with pytest.raises(ConfigError, match=r"\$\.rules\.mail: table 'users' has no field"):
        run({"rules": {"mail": "email"}})


# --------------------------------------------------------------------- rule files


def rule_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_reference_rule_file(tmp_path: Path) -> None:
    path = rule_file(tmp_path, """\
rules:
  email: email
  age: "range:0-150"
on_error: filter
""")
    out = build_chain(validate=[path]).apply(TableStream.from_rows(SCHEMA, ROWS, table="u"))
    assert out.rows() == [(1, "a@x.io", 30), (5, "e@x.io", 5)]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("rules:\n  email: email\n  age:\n    - required\n    - \"rang:0-150\"\n", 5,
     "rules.age[1]: unknown validation rule type: rang"),
    ("rules:\n  email: email\non_error: explode\n", 3,
     "on_error: 'explode' is not one of"),
    ("rules:\n  email: email\n   age: x\n", 3, "invalid YAML: mapping values are not allowed"),
    ("rules:\n  sku: \"regex:[a-\"\n", 2, "rules.sku: invalid regex pattern '[a-'"),
    ("rules:\n  age: \"range:zero-10\"\n", 2,
     "rules.age: expected range:MIN-MAX, got 'zero-10'"),
    ("on_error: drop\n", 1, "$: 'rules' is a required property"),
    ("rules:\n  age: {type: range, min: \"x\"}\n", 2, "rules.age"),
])
def test_bad_rule_file_is_one_line_naming_file_line_and_key(
        tmp_path: Path, text: str, line: int, message: str) -> None:
    path = rule_file(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        build_chain(validate=[path])
    error = str(exc.value)
    assert "\n" not in error
    assert error.startswith(f"{path}: line {line}: "), error
    assert message in error, error


def test_missing_rule_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        build_chain(validate=[str(tmp_path / "nope.yaml")])


def test_plugin_import_is_light() -> None:
    code = ("import sys, tdtp_processor_validate; "
            "print(sorted(m for m in ('jsonschema', 'yaml', 'lxml', 'pandas', "
            "'tdtp_processor_validate.processor') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_registered_through_plugin_host() -> None:
    import tdtp_processor_validate

    from tdtp_core.plugins import PluginHost

    host = PluginHost(autoload=False)
    host.register_module(tdtp_processor_validate, dist_name="tdtp-processor-validate")
    assert host.processors.load("validate") is ValidateProcessor
