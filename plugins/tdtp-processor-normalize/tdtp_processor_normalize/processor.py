"""The ``normalize`` processor: bring text fields to one canonical form.

Config: ``{"fields": {FIELD: RULE}}``, RULE ``"KIND[:ARG]"`` or ``{"kind": KIND, "region":
…, "format": …}``; kinds ``phone``, ``e164[:REGION]``, ``email``, ``date[:FORMAT]``,
``whitespace``, ``uppercase``, ``lowercase``. This is also the reference's rule-file shape
(``--normalize rules.yaml`` with a ``fields:`` mapping).

Only TEXT values are rewritten: NULL and empty values stay, and typed values (a DATE
field, an INTEGER phone number) are already in their canonical form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from tdtp_core.processors import ColumnFn, ColumnProcessor, field_rules_schema
from tdtp_core.types import TEXT, Field
from tdtp_core.yamlconf import PathPart
from tdtp_processor_normalize import normalizers

KINDS = (*normalizers.SIMPLE, "e164", "date")

_RULE_OBJECT = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": list(KINDS)},
        "region": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
        "format": {"type": "string", "minLength": 1},
    },
}


class NormalizeProcessor(ColumnProcessor):
    """Normalises the configured fields (see the module docstring)."""

    name: ClassVar[str] = "normalize"
    config_schema: ClassVar[Mapping[str, Any]] = field_rules_schema(_RULE_OBJECT)

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        self.normalizers = {name: self._normalizer(rule, ("fields", name))
                            for name, rule in self.config["fields"].items()}

    def _normalizer(self, rule: str | Mapping[str, Any], path: Sequence[PathPart]
                    ) -> normalizers.Normalizer:
        options: Mapping[str, Any]
        if isinstance(rule, str):
            kind, _, arg = rule.partition(":")
            options = {"region": arg} if kind == "e164" and arg else (
                {"format": arg} if kind == "date" and arg else {})
            if arg and not options:
                raise self.config_error(path, f"normalize kind {kind!r} takes no argument: "
                                              f"{rule!r}")
        else:
            kind, options = rule["kind"], rule
        if kind not in KINDS:
            raise self.config_error(path, f"unknown normalize kind {kind!r} "
                                          f"(kinds: {', '.join(KINDS)})")
        if kind == "e164":
            region = options.get("region")
            if region is not None and not normalizers.known_region(region):
                raise self.config_error(path, f"unknown region {region!r} for e164: give an "
                                              "ISO 3166 two-letter code such as GB or US")
            return normalizers.e164(region.upper() if region else None)
        if kind == "date":
            fmt = options.get("format")
            return normalizers.date_with_format(fmt) if fmt else normalizers.day_first_date
        return normalizers.SIMPLE[kind]

    def field_rules(self) -> Mapping[str, Any]:
        return self.normalizers

    def column(self, field: Field, rule: Any, path: Sequence[PathPart]) -> tuple[Field, ColumnFn]:
        if field.kind != TEXT or field.is_time:
            return field, list
        normalize: normalizers.Normalizer = rule

        def column(values: Sequence[Any]) -> list[Any]:
            return [normalize(v) if v else v for v in values]

        return field, column
