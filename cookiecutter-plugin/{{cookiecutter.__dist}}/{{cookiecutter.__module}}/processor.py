"""The ``{{ cookiecutter.name }}`` processor: upper-cases text fields.

An example to replace with your own transformation. Config:
``{"fields": ["name", ...]}``, the TEXT fields to change; without ``fields``, every
TEXT field. NULLs stay NULL; no row is added or dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tdtp_core.processors import BaseProcessor, Step
from tdtp_core.stream import Batch
from tdtp_core.types import Schema


class {{ cookiecutter.__class }}(BaseProcessor):
    """``BaseProcessor`` checks the config against ``config_schema`` when it is built,
    so a mistake is reported before any row moves."""

    name: ClassVar[str] = "{{ cookiecutter.name }}"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "fields": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        },
    }

    def bind(self, schema: Schema, table: str) -> Step:
        """Find the columns once per stream, so each batch only does the work."""
        names = self.config.get("fields")
        if names is None:
            columns = [i for i, field in enumerate(schema) if field.is_text]
        else:
            columns = []
            for n, name in enumerate(names):
                path = ("fields", n)
                i = self.field_index(schema, name, path, table)
                if not schema[i].is_text:
                    raise self.config_error(path, f"field {name!r} is {schema[i].type}, "
                                                  "not TEXT")
                columns.append(i)

        def upper(batch: Batch) -> Batch:
            out = []
            for row in batch:
                values = list(row)
                for i in columns:
                    if values[i] is not None:
                        values[i] = values[i].upper()
                out.append(tuple(values))
            return out

        return Step(schema, upper)
