"""The ``validate`` processor: check rows against rules; fail, drop, reject or warn.

Config (the reference's rule file, extended)::

    rules:                        # field → rule, list of rules, or rule object
      email: email
      age: "range:0-150"
      status: [required, "enum:active,inactive"]
      sku: {type: "regex:^[A-Z]{3}-\\d{5}$", error: "bad SKU", on_error: reject}
    on_error: fail                # default policy: fail | drop (filter) | reject | warn
    stop_on_first_error: false    # fail at the first error instead of listing them all
    reject: rejects.tdtp.xml      # where rejected rows go (needed by 'reject' rules)
    allow_empty: false            # true: NULL and "" pass every rule but 'required'

Rules run in schema order, then in the order listed (DECISIONS 15). A row failing several
rules gets the most severe policy: fail > reject > drop > warn.

``fail`` stops passing rows on at the first error and raises ``SchemaError`` when the
stream ends, listing the errors (row, field, rule, value); the sinks write atomically, so
nothing is written. ``reject`` writes failing rows to an ``error`` packet (the layout is core's,
``tdtp_core.packet.rejects``) that ``tdtp import`` takes back after a fix; every stream that
rejects rows gets its own file (``rj.tdtp.xml``, ``rj_2.tdtp.xml``, …).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tdtp_core.errors import SchemaError
from tdtp_core.packet import PacketWriter, WriteOptions
from tdtp_core.packet.rejects import REJECT_FIELDS, REJECT_PACKET_TYPE
from tdtp_core.packet.writer import save_parts
from tdtp_core.processors import BaseProcessor, Step, cell_texts
from tdtp_core.stream import Batch
from tdtp_core.types import Field, Schema
from tdtp_processor_validate.rules import POLICIES, SEVERITY, Check, Rule, RuleError, build_rule

#: Errors listed in a ``fail`` message before "and N more".
MAX_LISTED = 10
#: The extension kept whole when reject files are numbered (``rj_2.tdtp.xml``).
_PACKET_EXT = ".tdtp.xml"

_POLICY = {"enum": sorted(POLICIES)}
_RULE_OBJECT = {
    "type": "object",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "minLength": 1},
        "error": {"type": "string"},
        "on_error": _POLICY,
        "allow_empty": {"type": "boolean"},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "values": {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
        "pattern": {"type": "string"},
        "format": {"type": "string"},
    },
}
_RULE = {"anyOf": [{"type": "string", "minLength": 1}, _RULE_OBJECT]}


@dataclass(frozen=True)
class Violation:
    row: int
    field: str
    rule: Rule
    value: str | None
    detail: str

    def __str__(self) -> str:
        value = "NULL" if self.value is None else repr(
            self.value if len(self.value) <= 60 else self.value[:57] + "...")
        return (f"row {self.row}, field '{self.field}', rule '{self.rule.text}', "
                f"value {value}: {self.rule.message or self.detail}")


class ValidateProcessor(BaseProcessor):
    """Validates rows (see the module docstring)."""

    name: ClassVar[str] = "validate"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["rules"],
        "additionalProperties": False,
        "properties": {
            "rules": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {
                    "anyOf": [_RULE, {"type": "array", "minItems": 1, "items": _RULE}]
                },
            },
            "on_error": _POLICY,
            "stop_on_first_error": {"type": "boolean"},
            "reject": {"type": "string", "minLength": 1},
            "allow_empty": {"type": "boolean"},
        },
    }

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        policy = self.config.get("on_error", "fail")
        allow_empty = bool(self.config.get("allow_empty", False))
        self.rules: dict[str, list[Rule]] = {}
        for name, spec in self.config["rules"].items():
            items = spec if isinstance(spec, list) else [spec]
            built: list[Rule] = []
            for j, item in enumerate(items):
                path = ("rules", name, j) if isinstance(spec, list) else ("rules", name)
                try:
                    built.append(build_rule(item, policy, allow_empty))
                except RuleError as exc:
                    raise self.config_error(path, str(exc)) from None
            self.rules[name] = built
        self.reject_path = Path(self.config["reject"]) if "reject" in self.config else None
        if self.reject_path is None and any(r.policy == "reject" for rules in
                                            self.rules.values() for r in rules):
            raise self.config_error(("reject",), "rules with on_error 'reject' need "
                                                 "'reject: PATH' for the reject packet")
        self.stop_on_first_error = bool(self.config.get("stop_on_first_error", False))
        #: Counts of the last stream validated: rows, passed, dropped, rejected, warned.
        self.stats: dict[str, int] = {}
        #: The reject packets written so far, one per stream that rejected rows.
        self.reject_files: list[Path] = []

    def next_reject_path(self) -> Path:
        """Where the next reject packet goes: the ``reject`` path for the first stream
        that rejects rows, then ``NAME_2.tdtp.xml``, ``NAME_3…``, so a command that
        validates several streams (packet sets, result tables) keeps every stream's
        rejects instead of overwriting them."""
        assert self.reject_path is not None
        n = len(self.reject_files) + 1
        if n == 1:
            return self.reject_path
        name = self.reject_path.name
        ext = name[-len(_PACKET_EXT):] if name.lower().endswith(_PACKET_EXT) else \
            self.reject_path.suffix
        return self.reject_path.with_name(f"{name[:len(name) - len(ext)]}_{n}{ext}")

    def bind(self, schema: Schema, table: str) -> Step:
        positions = {name: self.field_index(schema, name, ("rules", name), table)
                     for name in self.rules}
        plan: list[tuple[int, Field, Any, list[tuple[Rule, Check]]]] = []
        for i, field in enumerate(schema):  # schema order, not the file's
            for name, rules in self.rules.items():
                if positions[name] == i:
                    plan.append((i, field, cell_texts(field),
                                 [(rule, rule.bind(field)) for rule in rules]))
        run = _Run(self, schema, table, plan)
        return Step(schema, run.batch, run.finish)


class _Run:
    """The state of validating one stream."""

    def __init__(self, processor: ValidateProcessor, schema: Schema, table: str,
                 plan: list[tuple[int, Field, Any, list[tuple[Rule, Check]]]]) -> None:
        self.processor = processor
        self.schema = schema
        self.table = table
        self.plan = plan
        self.rows = 0
        self.counts = {"passed": 0, "dropped": 0, "rejected": 0, "warned": 0}
        self.errors: list[Violation] = []
        self.error_count = 0
        self.rejects: PacketWriter | None = None

    def violations(self, batch: Batch) -> dict[int, list[Violation]]:
        columns = list(zip(*batch, strict=True))
        found: dict[int, list[Violation]] = {}
        for i, field, texts_of, checks in self.plan:
            values = columns[i]
            raw = texts_of(values)
            texts = ["" if t is None else t for t in raw] if None in raw else raw
            for rule, check in checks:
                for j, detail in check(values, texts, self.rows):
                    if rule.allow_empty and not texts[j] and rule.kind != "required":
                        continue
                    found.setdefault(j, []).append(
                        Violation(self.rows + j + 1, field.name, rule, raw[j], detail))
        return found

    def batch(self, batch: Batch) -> Batch:
        found = self.violations(batch)
        self.rows += len(batch)
        if not found and not self.errors:
            self.counts["passed"] += len(batch)
            return batch
        kept: Batch = []
        rejected: Batch = []
        for j, row in enumerate(batch):
            failures = found.get(j, [])
            policy = max((v.rule.policy for v in failures), key=SEVERITY.__getitem__,
                         default="pass")
            if policy == "fail":
                self.fail(failures)
            elif policy == "reject":
                first = next(v for v in failures if v.rule.policy == "reject")
                rejected.append((first.row, first.field, first.rule.text, first.value,
                                 "; ".join(str(v) for v in failures), *row))
                self.counts["rejected"] += 1
            elif policy == "drop":
                self.counts["dropped"] += 1
            else:
                for v in failures:
                    sys.stderr.write(f"tdtp: warning: validate: {v}\n")
                self.counts["warned"] += len(failures)
                if not self.errors:
                    kept.append(row)
        if rejected:
            self.reject(rejected)
        self.counts["passed"] += len(kept)
        return kept

    def fail(self, failures: list[Violation]) -> None:
        errors = [v for v in failures if v.rule.policy == "fail"]
        if self.processor.stop_on_first_error:
            raise SchemaError(f"validation failed: {errors[0]}", where=self.table)
        self.error_count += len(errors)
        self.errors.extend(errors[:MAX_LISTED - len(self.errors)])

    def reject(self, rows: Batch) -> None:
        if self.rejects is None:
            schema = Schema([*REJECT_FIELDS, *self.schema])
            self.rejects = PacketWriter(schema, self.table,
                                        WriteOptions(packet_type=REJECT_PACKET_TYPE))
        self.rejects.write_batch(rows)

    def finish(self) -> None:
        self.processor.stats = {"rows": self.rows, **self.counts}
        if self.errors:
            if self.rejects is not None:
                self.rejects.close()
            listed = "; ".join(str(e) for e in self.errors)
            more = self.error_count - len(self.errors)
            raise SchemaError(
                f"validation failed with {self.error_count} error(s): {listed}"
                + (f"; and {more} more" if more else ""), where=self.table)
        where = ""
        if self.rejects is not None:
            path = self.processor.next_reject_path()
            with self.rejects:
                self.rejects.finish()
                save_parts(self.rejects, path)
            self.processor.reject_files.append(path)
            where = f" to {path}"
        if self.counts["dropped"] or self.counts["rejected"]:
            sys.stderr.write(
                f"tdtp: validate: {self.counts['passed']} row(s) passed, "
                f"{self.counts['dropped']} dropped, {self.counts['rejected']} rejected{where}\n"
            )
