"""Every normaliser with its exact output (the reference's examples included), values
left unchanged when a rule does not apply, the rule file, config errors, light import."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tdtp_processor_normalize.processor import NormalizeProcessor

from tdtp_core import Field, Schema, TableStream, write_packets
from tdtp_core.cli.main import main
from tdtp_core.errors import ConfigError
from tdtp_core.processors import build_chain


def normalized(kind: Any, *values: Any, type_: str = "TEXT") -> list[Any]:
    schema = Schema([Field("v", type_)])
    stream = TableStream.from_rows(schema, [(v,) for v in values], table="t")
    return [row[0] for row in NormalizeProcessor({"fields": {"v": kind}}).process(stream)]


@pytest.mark.parametrize(("value", "expected"), [
    ("+1 (555) 123-4567", "15551234567"),
    ("+44 20 1234 5678", "442012345678"),
    ("555-1234", "5551234"),
    ("12-34", "12-34"),            # fewer than 7 digits: unchanged
    ("++1234567", "+1234567"),     # one leading + dropped, as the reference does
    ("tel: 020 7946 0958", "02079460958"),
])
def test_phone_reference(value: str, expected: str) -> None:
    assert normalized("phone", value) == [expected]


@pytest.mark.parametrize(("rule", "value", "expected"), [
    ("e164", "+1 (555) 123-4567", "+15551234567"),
    ("e164", "+44 20 7946 0958", "+442079460958"),
    ("e164", "020 7946 0958", "020 7946 0958"),   # no region: cannot tell, unchanged
    ("e164:GB", "020 7946 0958", "+442079460958"),
    ("e164:gb", "07700 900123", "+447700900123"),
    ("e164:US", "(201) 555-0123", "+12015550123"),
    ("e164:DE", "030 123456", "+4930123456"),
    ("e164:US", "12", "12"),                     # not a possible number: unchanged
    ("e164:US", "call me", "call me"),
])
def test_e164(rule: str, value: str, expected: str) -> None:
    assert normalized(rule, value) == [expected]


def test_e164_object_form() -> None:
    assert normalized({"kind": "e164", "region": "FR"}, "01 23 45 67 89") == ["+33123456789"]


@pytest.mark.parametrize(("value", "expected"), [
    (" John.Doe@Example.COM ", "john.doe@example.com"),
    ("A@B.C", "a@b.c"),
    (" NoAtSign.com ", " NoAtSign.com "),   # not an address: unchanged, not even trimmed
    ("x@nodot", "x@nodot"),
])
def test_email(value: str, expected: str) -> None:
    assert normalized("email", value) == [expected]


@pytest.mark.parametrize(("value", "expected"), [
    ("  Test  String  ", "Test String"),
    ("a\n\tb\r\n c", "a b c"),
    ("   ", ""),
])
def test_whitespace(value: str, expected: str) -> None:
    assert normalized("whitespace", value) == [expected]


def test_case() -> None:
    assert normalized("uppercase", "Straße ök") == ["STRASSE ÖK"]
    assert normalized("lowercase", "ÄBC Def") == ["äbc def"]


@pytest.mark.parametrize(("value", "expected"), [
    ("01.12.2024", "2024-12-01"),
    ("15/03/24", "2024-03-15"),
    ("5-1-2024", "2024-01-05"),
    ("5-1-202", "202-01-05"),       # a 3-digit year is kept, as in the reference
    ("31.02.2024", "2024-02-31"),   # no range check, as in the reference
    ("2024-01-05", "2024-01-05"),   # not day-first: unchanged
    ("yesterday", "yesterday"),
])
def test_date_reference(value: str, expected: str) -> None:
    assert normalized("date", value) == [expected]


@pytest.mark.parametrize(("rule", "value", "expected"), [
    ("date:%m/%d/%Y", "12/01/2024", "2024-12-01"),
    ("date:%d %B %Y", "5 March 2024", "2024-03-05"),
    ("date:%m/%d/%Y %H:%M", "12/01/2024 13:45", "2024-12-01T13:45:00"),
    ("date:%Y%m%d", " 20240229 ", "2024-02-29"),
    ("date:%m/%d/%Y", "13/01/2024", "13/01/2024"),   # does not parse: unchanged
])
def test_date_with_format(rule: str, value: str, expected: str) -> None:
    assert normalized(rule, value) == [expected]


def test_null_empty_and_typed_values_untouched() -> None:
    for kind in ("phone", "e164:US", "email", "whitespace", "uppercase", "date"):
        assert normalized(kind, None, "") == [None, ""], kind
    assert normalized("date", date(2024, 1, 2), type_="DATE") == [date(2024, 1, 2)]
    assert normalized("phone", 15551234567, type_="INTEGER") == [15551234567]


def test_several_fields_at_once() -> None:
    schema = Schema([Field("email", "TEXT"), Field("city", "TEXT")])
    out = NormalizeProcessor({"fields": {"email": "email", "city": "uppercase"}}).process(
        TableStream.from_rows(schema, [(" A@B.io", "paris")], table="t"))
    assert out.rows() == [("a@b.io", "PARIS")]


def test_reference_rule_file(tmp_path: Path) -> None:
    rules = tmp_path / "normalize.yaml"
    rules.write_text("fields:\n  email: email\n  phone: phone\n  city: uppercase\n",
                     encoding="utf-8")
    schema = Schema([Field("email", "TEXT"), Field("phone", "TEXT"), Field("city", "TEXT")])
    chain = build_chain(normalize=[str(rules)])
    out = chain.apply(TableStream.from_rows(schema, [("X@Y.Z ", "+1 555 1234567", "oslo")],
                                            table="t"))
    assert out.rows() == [("x@y.z", "15551234567", "OSLO")]


def test_rule_file_error_names_line(tmp_path: Path) -> None:
    rules = tmp_path / "normalize.yaml"
    rules.write_text("fields:\n  email: email\n  city: upcase\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        build_chain(normalize=[str(rules)])
    assert str(exc.value) == (f"{rules}: line 3: fields.city: unknown normalize kind 'upcase' "
                              "(kinds: phone, email, whitespace, uppercase, lowercase, e164, "
                              "date)")


@pytest.mark.parametrize(("rule", "message"), [
    ("upper", "unknown normalize kind 'upper'"),
    ("email:x", "normalize kind 'email' takes no argument"),
    ({"kind": "e164", "region": "GBR"}, "does not match"),
    ({"kind": "e164", "region": "ZZ"}, "unknown region 'ZZ' for e164"),
])
def test_bad_rules(rule: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        NormalizeProcessor({"fields": {"v": rule}})


@pytest.mark.parametrize("region", ["XYZ", "ZZ", "G"])
def test_e164_region_in_the_string_form_is_checked(region: str) -> None:
    with pytest.raises(ConfigError) as exc:
        NormalizeProcessor({"fields": {"v": f"e164:{region}"}})
    assert str(exc.value) == (f"processor 'normalize': $.fields.v: unknown region {region!r} "
                              "for e164: give an ISO 3166 two-letter code such as GB or US")


def test_unknown_region_option_exits_2_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "c.tdtp.xml"
    write_packets(TableStream.from_rows(Schema([Field("phone", "TEXT")]), [("020 7946 0958",)],
                                        table="c"), source)
    with pytest.raises(SystemExit) as exc:
        main(["convert", str(source), "-o", str(tmp_path / "out.tdtp.xml"),
              "--normalize", "phone:e164:XYZ"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "tdtp: config error: --normalize phone:e164:XYZ: processor 'normalize': $.fields.phone: "
        "unknown region 'XYZ' for e164: give an ISO 3166 two-letter code such as GB or US"]
    assert not (tmp_path / "out.tdtp.xml").exists()


def test_plugin_import_is_light() -> None:
    code = ("import sys, tdtp_processor_normalize; "
            "print(sorted(m for m in ('phonenumbers', 'jsonschema', 'yaml', 'lxml', 'pandas', "
            "'tdtp_processor_normalize.processor') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_registered_through_plugin_host() -> None:
    import tdtp_processor_normalize

    from tdtp_core.plugins import PluginHost

    host = PluginHost(autoload=False)
    host.register_module(tdtp_processor_normalize, dist_name="tdtp-processor-normalize")
    assert host.processors.load("normalize") is NormalizeProcessor
