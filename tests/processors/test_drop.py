"""Core's ``drop`` processor: names and patterns, case-insensitive, keys and order kept,
misspellings and emptying a table refused before any row moves."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from tdtp_core import Field, Schema, TableStream
from tdtp_core.errors import ConfigError
from tdtp_core.processors import build_chain
from tdtp_core.processors.fields import DropProcessor
from tdtp_core.testing import ProcessorConformance

SCHEMA = Schema([Field("reject_row", "INTEGER"), Field("reject_rule", "TEXT"),
                 Field("id", "INTEGER", key=True), Field("Note", "TEXT"),
                 Field("age", "INTEGER")])
ROWS = [(2, "email", 7, "n1", 30), (3, "range", 8, None, 200)]


def dropped(*fields: str) -> TableStream:
    stream = TableStream.from_rows(SCHEMA, ROWS, table="people")
    return DropProcessor({"fields": list(fields)}).process(stream)


def test_drops_patterns_and_names_case_insensitively_keeping_order_and_keys() -> None:
    out = dropped("REJECT_*", "note")
    assert out.schema.names == ["id", "age"]
    assert out.schema.field("id").key
    assert out.rows() == [(7, 30), (8, 200)]


def test_unmatched_name_is_a_config_error_naming_table_and_fields() -> None:
    with pytest.raises(ConfigError) as exc:
        dropped("reject_*", "nmae").rows()
    assert str(exc.value) == (
        "processor 'drop': $.fields[1]: table 'people' has no field matching 'nmae' "
        "(fields: reject_row, reject_rule, id, Note, age)")


def test_dropping_every_field_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"\$\.fields: would drop every field of table"):
        dropped("*").rows()


def test_registered_in_core_for_the_process_option() -> None:
    chain = build_chain(process=['drop:{"fields": ["reject_*"]}'])
    out = chain.apply(TableStream.from_rows(SCHEMA, ROWS, table="people"))
    assert out.schema.names == ["id", "Note", "age"]


class TestDropConformance(ProcessorConformance):
    plugin = "tdtp_core.builtin"
    component = "drop"
    config: ClassVar[Any] = {"fields": ["txt", "dat?"]}
    bad_config: ClassVar[Any] = {"fields": []}
