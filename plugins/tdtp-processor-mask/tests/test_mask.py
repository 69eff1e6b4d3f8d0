"""Every mask kind with its exact output (the reference's examples included), NULL and
empty handling, non-text fields, determinism of hashes, config errors and light import."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from tdtp_processor_mask.masks import auto_kind
from tdtp_processor_mask.processor import MaskProcessor

from tdtp_core import Field, Schema, TableStream
from tdtp_core.errors import ConfigError


def masked(kind: str, *values: Any, type_: str = "TEXT", **field: Any) -> list[Any]:
    schema = Schema([Field("v", type_, **field)])
    stream = TableStream.from_rows(schema, [(v,) for v in values], table="t")
    return [row[0] for row in MaskProcessor({"fields": {"v": kind}}).process(stream)]


@pytest.mark.parametrize("kind", ["partial", "email"])
@pytest.mark.parametrize(("value", "expected"), [
    ("john.doe@example.com", "j***@example.com"),
    ("ab@x.io", "a***@x.io"),
    ("Hello World", "H***d"),
    ("abc", "a***c"),
    ("ab", "***"),
    ("a", "***"),
    ("not@an-email", "n***l"),
    ("ñandú@example.com", "ñ***m"),  # the reference's e-mail pattern is ASCII
])
def test_partial_and_email(kind: str, value: str, expected: str) -> None:
    assert masked(kind, value) == [expected]


@pytest.mark.parametrize("kind", ["middle", "phone"])
@pytest.mark.parametrize(("value", "expected"), [
    ("+1 (555) 123-4567", "+1 (555) XXX-4567"),
    ("1234 5678 9012 3456", "1234 XXXX XXXX 3456"),
    ("12345", "12X45"),
    ("1234", "XXXX"),
    ("ab-12", "XXXXX"),
    ("12345678", "12345678"),
])
def test_middle_and_phone(kind: str, value: str, expected: str) -> None:
    assert masked(kind, value) == [expected]


def test_middle_digit_windows() -> None:
    # D digits: k = D // 2 below 8 digits, else 4; digits k+1 .. D-k become X.
    assert masked("phone", "123456") == ["123456"]      # D=6, k=3: no digit in 4..3
    assert masked("phone", "1234567") == ["123X567"]    # D=7, k=3: digit 4
    assert masked("phone", "123456789") == ["1234X6789"]  # D=9, k=4: digit 5


@pytest.mark.parametrize("kind", ["stars", "password"])
@pytest.mark.parametrize(("value", "expected"), [
    ("123-45-6789", "***-**-****"),
    ("MyPass123", "*********"),
    ("a b(c)d.e/f", "* *(*)*.*/*"),
    ("пароль", "******"),
])
def test_stars_and_password(kind: str, value: str, expected: str) -> None:
    assert masked(kind, value) == [expected]


@pytest.mark.parametrize("kind", ["first2_last2", "card"])
@pytest.mark.parametrize(("value", "expected"), [
    ("1234 567890", "12** ****90"),
    ("40817810123456789012", "40****************12"),
    ("1234 5678 9012 3456", "12** **** **** **56"),
    ("12345", "12*45"),
    ("1234", "****"),
    ("12 34", "*****"),
])
def test_first2_last2_and_card(kind: str, value: str, expected: str) -> None:
    assert masked(kind, value) == [expected]


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("partial:2:4", "4111111111111111", "41**********1111"),
    ("partial:0:4", "4111111111111111", "************1111"),
    ("partial:3:0", "secret", "sec***"),
    ("partial:2:2", "abcd", "****"),
    ("partial:2:2", "abcde", "ab*de"),
])
def test_partial_keep_first_last(kind: str, value: str, expected: str) -> None:
    assert masked(kind, value) == [expected]


def test_partial_object_form() -> None:
    schema = Schema([Field("v", "TEXT")])
    stream = TableStream.from_rows(schema, [("abcdef",)], table="t")
    rule = {"kind": "partial", "keep_first": 1, "keep_last": 1}
    assert MaskProcessor({"fields": {"v": rule}}).process(stream).rows() == [("a****f",)]


def test_fixed() -> None:
    assert masked("fixed", "anything", "x") == ["***", "***"]
    assert masked("fixed:REDACTED", "anything") == ["REDACTED"]
    assert masked("fixed:a:b", "x") == ["a:b"]


def test_hash_is_salted_and_deterministic() -> None:
    first = masked("hash:pepper", "alice@x.io", "bob@x.io", "alice@x.io")
    assert first[0] == first[2] != first[1]
    assert len(first[0]) == 16 and all(c in "0123456789abcdef" for c in first[0])
    assert first == masked("hash:pepper", "alice@x.io", "bob@x.io", "alice@x.io")
    assert masked("hash:salt", "alice@x.io")[0] != first[0]
    # HMAC-SHA256(key=b"pepper", msg=b"alice@x.io"), first 16 hex digits.
    import hashlib
    import hmac
    expected = hmac.new(b"pepper", b"alice@x.io", hashlib.sha256).hexdigest()[:16]
    assert first[0] == expected


def test_hash_length_and_salt_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = Schema([Field("v", "TEXT")])
    rule = {"kind": "hash", "salt": "s", "length": 64}
    out = MaskProcessor({"fields": {"v": rule}}).process(
        TableStream.from_rows(schema, [("x",)], table="t")).rows()
    assert len(out[0][0]) == 64
    monkeypatch.setenv("TDTP_MASK_SALT", "pepper")
    assert masked("hash", "alice@x.io") == masked("hash:pepper", "alice@x.io")


def test_hash_without_salt_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TDTP_MASK_SALT", raising=False)
    with pytest.raises(ConfigError, match="hash masking needs a salt"):
        MaskProcessor({"fields": {"v": "hash"}})


def test_null_keeps_type() -> None:
    schema = Schema([Field("v", "INTEGER")])
    out = MaskProcessor({"fields": {"v": "null"}}).process(
        TableStream.from_rows(schema, [(1,), (None,)], table="t"))
    assert out.schema[0].type == "INTEGER" and out.rows() == [(None,), (None,)]


def test_null_and_empty_values_are_left_alone() -> None:
    for kind in ("email", "phone", "card", "password", "partial:1:1", "fixed", "hash:s"):
        assert masked(kind, None, "") == [None, ""], kind


def test_non_text_field_is_masked_as_its_cell_text_and_becomes_text() -> None:
    schema = Schema([Field("id", "INTEGER", key=True), Field("amount", "DECIMAL", scale=2),
                     Field("born", "DATE")])
    rows = [(1, Decimal("1234.50"), date(1990, 5, 17)), (2, None, None)]
    out = MaskProcessor({"fields": {"amount": "password", "born": "partial:0:4"}}).process(
        TableStream.from_rows(schema, rows, table="t"))
    assert [(f.name, f.type, f.key) for f in out.schema] == [
        ("id", "INTEGER", True), ("amount", "TEXT", False), ("born", "TEXT", False)]
    assert out.rows() == [(1, "****.**", "******5-17"), (2, None, None)]


@pytest.mark.parametrize(("name", "kind"), [
    ("email", "partial"), ("Work_Email", "partial"), ("phone", "middle"),
    ("MobileNo", "middle"), ("card_number", "first2_last2"), ("credit", "first2_last2"),
    ("passport", "stars"), ("SSN", "stars"), ("name", "partial"),
])
def test_auto_kind_follows_reference(name: str, kind: str) -> None:
    assert auto_kind(name) == kind


def test_auto_masks_by_field_name() -> None:
    schema = Schema([Field("email", "TEXT"), Field("phone", "TEXT"), Field("ssn", "TEXT")])
    out = MaskProcessor({"fields": dict.fromkeys(("email", "phone", "ssn"), "auto")}).process(
        TableStream.from_rows(schema, [("ab@x.io", "12345", "123-45")], table="t"))
    assert out.rows() == [("a***@x.io", "12X45", "***-**")]


@pytest.mark.parametrize(("rule", "message"), [
    ("emial", "unknown mask kind 'emial'"),
    ("email:x", "mask kind 'email' takes no arguments"),
    ("partial:2", "expected partial:FIRST:LAST"),
    ("partial:a:b", "expected partial:FIRST:LAST"),
])
def test_bad_rules_are_config_errors(rule: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as exc:
        MaskProcessor({"fields": {"v": rule}})
    assert "processor 'mask': $.fields.v" in str(exc.value)


def test_bad_rule_object_is_schema_error() -> None:
    with pytest.raises(ConfigError, match=r"\$\.fields\.v"):
        MaskProcessor({"fields": {"v": {"kind": "fixed", "keep_first": -1}}})
    with pytest.raises(ConfigError, match="keep_first/keep_last apply to kind 'partial'"):
        MaskProcessor({"fields": {"v": {"kind": "fixed", "keep_first": 1}}})


def test_rows_are_not_mutated() -> None:
    rows = [("john@x.io",)]
    out = MaskProcessor({"fields": {"v": "email"}}).process(
        TableStream.from_rows(Schema([Field("v", "TEXT")]), rows, table="t")).rows()
    assert rows == [("john@x.io",)] and out == [("j***@x.io",)]


def test_plugin_import_is_light() -> None:
    code = ("import sys, tdtp_processor_mask; "
            "print(sorted(m for m in ('jsonschema', 'yaml', 'lxml', 'pandas', 'openpyxl', "
            "'tdtp_processor_mask.processor') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_registered_through_plugin_host() -> None:
    import tdtp_processor_mask

    from tdtp_core.plugins import PluginHost

    host = PluginHost(autoload=False)
    host.register_module(tdtp_processor_mask, dist_name="tdtp-processor-mask")
    assert host.processors.load("mask") is MaskProcessor
