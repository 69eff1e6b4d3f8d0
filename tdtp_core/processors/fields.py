"""The ``drop`` processor: leave fields out of a stream.

Config: ``{"fields": ["note", "reject_*"]}``, field names or shell-style patterns
(``*``, ``?``, ``[…]``), matched case-insensitively. It is core's because removing
columns is needed by every path, e.g. to import a fixed reject packet that went through
CSV or XLSX (``--process 'drop:{"fields": ["reject_*"]}'``), where the packet type that
tells ``tdtp import`` to leave the reject fields out is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, ClassVar

from tdtp_core.processors.base import BaseProcessor, Step

if TYPE_CHECKING:
    from tdtp_core.stream import Batch
    from tdtp_core.types import Schema


class DropProcessor(BaseProcessor):
    """Removes the configured fields (see the module docstring)."""

    name: ClassVar[str] = "drop"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["fields"],
        "additionalProperties": False,
        "properties": {
            "fields": {"type": "array", "minItems": 1,
                       "items": {"type": "string", "minLength": 1}},
        },
    }

    def bind(self, schema: Schema, table: str) -> Step:
        folded = [f.name.casefold() for f in schema]
        dropped: set[int] = set()
        for j, pattern in enumerate(self.config["fields"]):
            hits = {i for i, name in enumerate(folded) if fnmatchcase(name, pattern.casefold())}
            if not hits:
                # A misspelt name must not let the field through unnoticed.
                raise self.config_error(("fields", j), f"table {table!r} has no field matching "
                                                       f"{pattern!r} (fields: "
                                                       f"{', '.join(schema.names)})")
            dropped |= hits
        keep = [i for i in range(len(schema)) if i not in dropped]
        if not keep:
            raise self.config_error(("fields",), f"would drop every field of table {table!r}")

        def run(batch: Batch) -> Batch:
            return [tuple(row[i] for i in keep) for row in batch]

        return Step(schema.with_fields([schema[i] for i in keep]), run)
