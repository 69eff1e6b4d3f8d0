"""The ``{{ cookiecutter.name }}`` file format: JSON lines, one object per row.

An example to replace with your own format. Each line maps the field names to the
values' canonical TDTP cell text (``"1500.50"``, ``"2024-01-31"``, BLOBs in Base64) or
``null``, so every type reads back exactly; the types travel in the
``<file>.schema.json`` sidecar (the one CSV files use). Without a sidecar every field
is read as TEXT and plain JSON numbers and booleans are accepted too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.formats.schema_json import read_sidecar, sidecar_path, write_sidecar
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, TableStream
from tdtp_core.types import Field, Schema
from tdtp_core.values import format_value, parse_value


class {{ cookiecutter.__class }}:
    """Stateless: core builds one instance and shares it."""

    name = "{{ cookiecutter.name }}"
    extensions = (".jsonl",)

    def write(self, stream: TableStream, path: Path, **options: Any) -> list[Path]:
        """Write one file through a temporary name, so a failure leaves none behind."""
        _no_options(options)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fields = list(stream.schema)
        try:
            with tmp.open("w", encoding="utf-8", newline="\n") as fh:
                for batch in stream.batches():
                    fh.writelines(_line(fields, row) for row in batch)
            write_sidecar(sidecar_path(path), stream.schema, stream.table or _stem(path))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return [path]

    def read(
        self,
        paths: Sequence[Path],
        *,
        table: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        **options: Any,
    ) -> TableStream:
        """Stream one or more files holding the same fields as one table."""
        _no_options(options)
        files = [Path(p) for p in paths]
        if not files:
            raise ConfigError("no file to read")
        sidecar = sidecar_path(files[0])
        if sidecar.exists():
            stated, schema = read_sidecar(sidecar)
        else:
            stated, schema = None, Schema(Field(n, "TEXT") for n in _first_keys(files[0]))
        name = table or stated or _stem(files[0])
        return TableStream(schema, _batches(files, schema, batch_size), table=name)


def _no_options(options: dict[str, Any]) -> None:
    if options:
        raise ConfigError(f"JSON-lines files take no option(s) {', '.join(sorted(options))}")


def _stem(path: Path) -> str:
    return path.name.split(".", 1)[0]


def _line(fields: list[Field], row: tuple[Any, ...]) -> str:
    record = {f.name: None if v is None else format_value(f, v)
              for f, v in zip(fields, row, strict=True)}
    return json.dumps(record, ensure_ascii=False) + "\n"


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; anything else is a SchemaError."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SchemaError(f"invalid JSON: {exc.msg}",
                                  where=f"{path}: line {number}") from None
            if not isinstance(record, dict):
                raise SchemaError("expected a JSON object", where=f"{path}: line {number}")
            yield number, record


def _first_keys(path: Path) -> list[str]:
    for _, record in _records(path):
        return list(record)
    raise SchemaError("no rows and no schema sidecar: the fields are unknown", where=str(path))


def _batches(files: list[Path], schema: Schema, size: int) -> Iterator[Batch]:
    batch: Batch = []
    for path in files:
        for number, record in _records(path):
            try:
                batch.append(tuple(_value(f, record.get(f.name)) for f in schema))
            except SchemaError as exc:
                raise exc.at(f"{path}: line {number}") from None
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def _value(field: Field, cell: Any) -> Any:
    if cell is None:
        return None
    return parse_value(field, cell if isinstance(cell, str) else json.dumps(cell))
