"""The pipeline file's JSON Schema, shipped in core as package data, and its messages.

jsonschema's own messages name no key a user can find (``Additional properties are not
allowed``); these name the key, say what was expected, and for a key of the Go
reference's format that we do not take, why not and what to write instead.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from tdtp_core.errors import ConfigError
from tdtp_core.yamlconf import PathPart

#: Keys of the reference's pipeline format (framework §8.2) that we reject, and why.
REFERENCE_KEYS: dict[str, dict[str, str]] = {
    "": {
        "output": "the reference's single 'output' block is 'outputs' here, a list "
                  "(several outputs per pipeline)",
        "audit": "the reference ignores it; pipeline runs are audited through the 'audit' "
                 "section of tdtp.yaml",
        "result_log": "the Redis result log is not supported; use --summary-json",
        "security": "encryption is not supported",
    },
    "sources": {
        "type": "the kind of source follows from its keys: 'url' with 'table' or 'query', "
                "'file' (packet set, CSV, XLSX) or 'broker'",
        "dsn": "a database is 'url' (with 'table' or 'query'), a file is 'file'",
        "multi_part": "part sets are always found and read whole (and checked as a set); "
                      "remove the key",
        "no_date_sentinels": "not supported: the adapters decide which dates mean 'no date'",
        "sanitize": "field names are not rewritten; alias columns in the transform SQL",
        "fast": "not supported: special values are always detected",
        "mercury_url": "encryption is not supported",
        "mercury_timeout_ms": "encryption is not supported",
        "s3": "S3 sources are not supported",
    },
    "workspace": {"config": "the reference ignores it; remove it"},
    "transform": {},
    "outputs": {
        "tdtp": "settings go directly on the output (destination, compress, ...), "
                "not in a nested 'tdtp' block",
        "rabbitmq": "settings go directly on the output: url: amqp://user:pw@host/%2F?queue=Q",
        "kafka": "settings go directly on the output: url: kafka://host:9092/TOPIC",
        "xlsx": "settings go directly on the output (destination, sheet)",
        "resilience": "resilience is a top-level section and covers every output",
        "compression": "write compress: true (or a codec name)",
        "compress_algo": "name the codec in compress (compress: zstd)",
        "compact_tail": "not supported",
        "fast": "not supported: special values are always detected",
        "encryption": "encryption is not supported",
        "encryption_v13": "encryption is not supported",
    },
    "error_handling": {
        "retry_attempts": "use resilience.retry.max_attempts",
        "retry_delay_seconds": "use resilience.retry.initial_wait",
    },
    "performance": {
        "max_memory_mb": "memory is bounded by batch_size; remove it",
        "fast": "not supported: special values are always detected",
    },
}

class KeyProblem(ConfigError):
    """A mistake at a key inside one source or output (``keys`` is relative to it)."""

    def __init__(self, keys: Sequence[PathPart], message: str) -> None:
        super().__init__(message)
        self.keys = tuple(keys)


_TYPE_NAMES = {"string": "a string", "number": "a number", "integer": "an integer",
               "boolean": "true or false", "object": "a mapping", "array": "a list",
               "null": "nothing"}


@functools.cache
def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema of a pipeline file (``tdtp pipeline schema`` prints it)."""
    text = resources.files("tdtp_core.pipeline").joinpath("schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def describe(value: Any) -> str:
    """A value as a user wrote it in YAML, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _context(path: Sequence[PathPart]) -> str:
    return ".".join(p for p in path if isinstance(p, str))


def _unknown_key(path: tuple[PathPart, ...], key: str, known: Sequence[str]
                 ) -> tuple[tuple[PathPart, ...], str]:
    hint = REFERENCE_KEYS.get(_context(path), {}).get(key)
    if hint is not None:
        return (*path, key), f"key '{key}' is not supported: {hint}"
    return (*path, key), f"unknown key '{key}' (known: {', '.join(sorted(known))})"


def _messages(error: Any) -> list[tuple[tuple[PathPart, ...], str]]:
    path = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = list(error.schema.get("properties", {}))
        return [_unknown_key(path, str(k), known) for k in instance if k not in known]
    if kind == "required":
        missing = [k for k in value if isinstance(instance, dict) and k not in instance]
        return [(path, f"missing required key '{k}'") for k in missing]
    if kind == "type":
        types = [value] if isinstance(value, str) else list(value)
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
        hint = ""
        if isinstance(instance, dict) and "pre_export" in instance:
            hint = " (the reference's processors.pre_export list goes directly under processors)"
        return [(path, f"expected {wanted}, got {describe(instance)}{hint}")]
    if kind == "enum":
        return [(path, f"must be one of {', '.join(map(str, value))}, got {describe(instance)}")]
    if kind == "minLength":
        return [(path, "must not be empty")]
    if kind == "minItems":
        return [(path, f"needs at least {value} item(s)")]
    if kind == "minProperties":
        return [(path, f"needs at least {value} key(s)")]
    if kind in ("minimum", "exclusiveMinimum", "maximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<="}[kind]
        return [(path, f"must be {op} {value}, got {describe(instance)}")]
    if kind == "uniqueItems":
        return [(path, "has the same item twice")]
    if kind == "pattern":
        if "propertyNames" in error.absolute_schema_path:  # a key, e.g. a variable's name
            path = (*path, str(instance))
        return [(path, f"{describe(instance)} is not a valid name (letters, digits and _, "
                       "not starting with a digit)")]
    return [(path, str(error.message))]


def schema_problems(data: Any) -> list[tuple[tuple[PathPart, ...], str]]:
    """Every violation of the schema in ``data``, as (path, message), deduplicated."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(pipeline_schema())
    seen: dict[tuple[tuple[PathPart, ...], str], None] = {}
    for error in validator.iter_errors(data):
        for item in _messages(error):
            seen.setdefault(item, None)
    return list(seen)
