"""A schema as JSON: the ``<file>.schema.json`` sidecar that gives a CSV file its types.

::

    {"table": "users",
     "fields": [{"name": "id", "type": "INTEGER", "key": true},
                {"name": "balance", "type": "DECIMAL", "precision": 12, "scale": 2}]}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tdtp_core.errors import SchemaError
from tdtp_core.types import Field, Schema

_INT_ATTRS = ("length", "precision", "scale")
_STR_ATTRS = ("timezone", "subtype")


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".schema.json")


def schema_to_dict(schema: Schema, table: str) -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    for f in schema:
        item: dict[str, Any] = {"name": f.name, "type": f.type}
        if f.key:
            item["key"] = True
        for attr in (*_INT_ATTRS, *_STR_ATTRS):
            value = getattr(f, attr)
            if value is not None:
                item[attr] = value
        fields.append(item)
    return {"table": table, "fields": fields}


def _field(item: Any) -> Field:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise SchemaError(f"a field must be an object with a 'name', got {item!r}")
    name = item["name"]
    attrs: dict[str, Any] = {}
    for attr in _INT_ATTRS:
        if item.get(attr) is not None:
            if not isinstance(item[attr], int) or isinstance(item[attr], bool):
                raise SchemaError(f"field {name!r}: {attr} must be an integer")
            attrs[attr] = item[attr]
    for attr in _STR_ATTRS:
        if item.get(attr) is not None:
            attrs[attr] = str(item[attr])
    return Field(name, str(item.get("type", "TEXT")), key=bool(item.get("key", False)), **attrs)


def schema_from_dict(data: Any) -> tuple[str | None, Schema]:
    """The table name (if stated) and the validated schema of ``schema_to_dict`` output."""
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise SchemaError("expected an object with a 'fields' list")
    schema = Schema(_field(item) for item in data["fields"])
    schema.validate()
    table = data.get("table")
    return (table if isinstance(table, str) and table else None), schema


def read_sidecar(path: Path) -> tuple[str | None, Schema]:
    """The table name (if stated) and the validated schema in a sidecar file."""
    try:
        return schema_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"invalid JSON: {exc}", where=str(path)) from None
    except SchemaError as exc:
        raise exc.at(str(path)) from None


def write_sidecar(path: Path, schema: Schema, table: str) -> None:
    """Write the schema file through a temporary file, so it is whole or absent."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(schema_to_dict(schema, table), indent=2) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
