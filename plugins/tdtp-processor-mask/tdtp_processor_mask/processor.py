"""The ``mask`` processor: hide the values of chosen fields, deterministically.

Config: ``{"fields": {FIELD: RULE}}`` where RULE is ``"KIND[:ARGS]"`` or an object
``{"kind": KIND, ...}`` (``keep_first``/``keep_last`` for partial, ``text`` for fixed,
``salt``/``length`` for hash). NULL and empty values are left as they are. A masked
field that is not TEXT becomes TEXT (its values are masked as their cell text), except
with ``null``, which keeps the type.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from tdtp_core.processors import ColumnFn, ColumnProcessor, cell_texts, field_rules_schema
from tdtp_core.types import TEXT, Field
from tdtp_core.yamlconf import PathPart
from tdtp_processor_mask import masks

SALT_ENV = "TDTP_MASK_SALT"
DEFAULT_HASH_LENGTH = 16

#: kind → the reference pattern it is (the brief's names and the reference's both work).
_REFERENCE: dict[str, masks.Mask] = {
    "email": masks.partial,
    "partial": masks.partial,
    "phone": masks.middle,
    "middle": masks.middle,
    "card": masks.first2_last2,
    "first2_last2": masks.first2_last2,
    "password": masks.stars,
    "stars": masks.stars,
}
KINDS = (*_REFERENCE, "fixed", "hash", "null", "auto")

_RULE_OBJECT = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": list(KINDS)},
        "keep_first": {"type": "integer", "minimum": 0},
        "keep_last": {"type": "integer", "minimum": 0},
        "text": {"type": "string"},
        "salt": {"type": "string"},
        "length": {"type": "integer", "minimum": 8, "maximum": 64},
    },
}


class MaskProcessor(ColumnProcessor):
    """Masks the configured fields (see the module docstring)."""

    name: ClassVar[str] = "mask"
    config_schema: ClassVar[Mapping[str, Any]] = field_rules_schema(_RULE_OBJECT)

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        # Check every rule now, so a typo fails before any data is read.
        self.rules = {name: self._rule(rule, ("fields", name))
                      for name, rule in self.config["fields"].items()}

    def _rule(self, rule: str | Mapping[str, Any], path: Sequence[PathPart]) -> dict[str, Any]:
        """A rule as an object; the string form's arguments parsed and checked."""
        if not isinstance(rule, str):
            return self._check(dict(rule), path)
        kind, _, args = rule.partition(":")
        if kind not in KINDS:
            raise self.config_error(path, f"unknown mask kind {kind!r} (kinds: {', '.join(KINDS)})")
        out: dict[str, Any] = {"kind": kind}
        if kind == "partial" and args:
            first, sep, last = args.partition(":")
            if not (sep and first.isdigit() and last.isdigit()):
                raise self.config_error(path, f"expected partial:FIRST:LAST, got {rule!r}")
            out.update(keep_first=int(first), keep_last=int(last))
        elif kind == "fixed" and ":" in rule:
            out["text"] = args
        elif kind == "hash" and args:
            out["salt"] = args
        elif args:
            raise self.config_error(path, f"mask kind {kind!r} takes no arguments: {rule!r}")
        return self._check(out, path)

    def _check(self, rule: dict[str, Any], path: Sequence[PathPart]) -> dict[str, Any]:
        kind = rule["kind"]
        if ("keep_first" in rule or "keep_last" in rule) and kind != "partial":
            raise self.config_error(path, "keep_first/keep_last apply to kind 'partial'")
        if kind == "hash" and not rule.get("salt"):
            salt = os.environ.get(SALT_ENV, "")
            if not salt:
                raise self.config_error(
                    path, f"hash masking needs a salt: hash:SALT or the {SALT_ENV} variable"
                )
            rule["salt"] = salt
        return rule

    def _mask(self, field: Field, rule: Mapping[str, Any]) -> masks.Mask:
        kind = rule["kind"]
        if kind == "auto":
            kind = masks.auto_kind(field.name)
        if kind == "partial" and ("keep_first" in rule or "keep_last" in rule):
            return masks.keep_ends(rule.get("keep_first", 0), rule.get("keep_last", 0))
        if kind == "fixed":
            return masks.fixed(rule.get("text", "***"))
        if kind == "hash":
            return masks.salted_hash(rule["salt"], rule.get("length", DEFAULT_HASH_LENGTH))
        return _REFERENCE[kind]

    def field_rules(self) -> Mapping[str, Any]:
        return self.rules

    def column(self, field: Field, rule: Any, path: Sequence[PathPart]) -> tuple[Field, ColumnFn]:
        if rule["kind"] == "null":
            return field, _nulls
        mask = self._mask(field, rule)
        if field.kind == TEXT and not field.is_time:
            return field, _text_column(mask)
        texts = cell_texts(field)

        def column(values: Sequence[Any]) -> list[Any]:
            return [mask(v) if v else v for v in texts(values)]

        return Field(field.name, TEXT, key=field.key), column


def _nulls(values: Sequence[Any]) -> list[Any]:
    return [None] * len(values)


def _text_column(mask: masks.Mask) -> ColumnFn:
    def column(values: Sequence[Any]) -> list[Any]:
        return [mask(v) if v else v for v in values]

    return column
