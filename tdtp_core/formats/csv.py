"""CSV files as a table format, streamed batch by batch.

Writing: a header row of field names, then each value as its canonical TDTP cell text
(``1500.50``, ``2024-01-31T10:00:00Z``, BLOBs in Base64); NULL is an empty cell.
Reading: the header row names the fields; their types come from ``<file>.schema.json``
when it exists (``schema_sidecar=True`` writes one), else every field is TEXT. An empty
cell reads as NULL, except in TEXT fields where it is the empty string.
"""

from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.formats import check_options
from tdtp_core.formats.schema_json import read_sidecar, sidecar_path, write_sidecar
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, TableStream
from tdtp_core.types import TEXT, Field, Schema
from tdtp_core.values import HAS_NULL, NULL_SENTINEL, CellError, column_decoder, column_encoder

_QUOTING = ("minimal", "all")
#: The largest cell read (2 GiB - 1: the limit must fit a C long everywhere).
_MAX_CELL = 2**31 - 1


def _delimiter(value: str) -> str:
    """``,``, ``;``, a real tab or the two characters ``\\t``."""
    value = "\t" if value in ("\\t", "tab") else value
    if len(value) != 1:
        raise ConfigError(f"a CSV delimiter is one character, got {value!r}")
    return value


def _encoding(value: str, *, reading: bool) -> str:
    try:
        name = codecs.lookup(value).name
    except LookupError:
        raise ConfigError(f"unknown text encoding {value!r}") from None
    # Reading UTF-8 skips a byte-order mark if Excel wrote one.
    return "utf-8-sig" if reading and name == "utf-8" else name


def _table_name(path: Path) -> str:
    return path.name.split(".", 1)[0]


class CsvFormat:
    """Comma-separated values (RFC 4180 quoting, ``\\n`` line ends)."""

    name = "csv"
    extensions = (".csv",)

    def write(
        self,
        stream: TableStream,
        path: Path,
        *,
        delimiter: str = ",",
        quoting: str = "minimal",
        encoding: str = "utf-8",
        schema_sidecar: bool = False,
        **unknown: Any,
    ) -> list[Path]:
        """Write one CSV file (through a temporary file, so a failure leaves none)."""
        check_options(self.name, unknown, ())
        if quoting not in _QUOTING:
            raise ConfigError(f"CSV quoting must be one of {', '.join(_QUOTING)}, got {quoting!r}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            with tmp.open("w", encoding=_encoding(encoding, reading=False), newline="") as fh:
                writer = csv.writer(
                    fh, delimiter=_delimiter(delimiter),
                    quoting=csv.QUOTE_ALL if quoting == "all" else csv.QUOTE_MINIMAL,
                    lineterminator="\n",
                )
                writer.writerow(stream.schema.names)
                for batch in _encoded_batches(stream):
                    writer.writerows(batch)
            if schema_sidecar:
                write_sidecar(sidecar_path(path), stream.schema, stream.table or _table_name(path))
            os.replace(tmp, path)
        except UnicodeEncodeError as exc:
            raise SchemaError(
                f"{exc.object[exc.start:exc.end]!r} cannot be written in {encoding}",
                where=str(path),
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
        return [path]

    def read(
        self,
        paths: Sequence[Path],
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        table: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        **unknown: Any,
    ) -> TableStream:
        """Stream one or more CSV files that share a header row as one table."""
        check_options(self.name, unknown, ())
        if not paths:
            raise ConfigError("no CSV file to read")
        files = [Path(p) for p in paths]
        delim = _delimiter(delimiter)
        enc = _encoding(encoding, reading=True)
        header = _header(files[0], enc, delim)
        sidecar = sidecar_path(files[0])
        if sidecar.exists():
            sidecar_table, schema = read_sidecar(sidecar)
            if schema.names != header:
                raise SchemaError(
                    f"fields {schema.names} do not match the header {header} of {files[0]}",
                    where=str(sidecar),
                )
        else:
            sidecar_table, schema = None, Schema(Field(name, TEXT) for name in header)
            try:
                schema.validate()
            except SchemaError as exc:
                raise exc.at(str(files[0])) from None
        name = table or sidecar_table or _table_name(files[0])
        batches = _read_batches(files, enc, delim, schema, batch_size)
        return TableStream(schema, batches, table=name)


def _encoded_batches(stream: TableStream) -> Iterator[list[tuple[str, ...]]]:
    encoders = [(f, column_encoder(f)) for f in stream.schema]
    for batch in stream.batches():
        columns: list[list[str]] = []
        for (field, encode), values in zip(encoders, zip(*batch, strict=True), strict=True):
            try:
                texts, flags = encode(values)
            except (TypeError, ValueError) as exc:
                raise SchemaError(f"field {field.name!r}: {exc}", where=stream.table) from None
            if flags & HAS_NULL:
                texts = ["" if t == NULL_SENTINEL else t for t in texts]
            columns.append(texts)
        yield list(zip(*columns, strict=True))


def _header(path: Path, encoding: str, delimiter: str) -> list[str]:
    with path.open(encoding=encoding, newline="") as fh:
        header = next(csv.reader(fh, delimiter=delimiter), None)
    if header is None:
        raise SchemaError("empty file, expected a header row", where=str(path))
    return header


def _read_batches(
    files: list[Path], encoding: str, delimiter: str, schema: Schema, size: int
) -> Iterator[Batch]:
    decoders = [column_decoder(f) for f in schema]
    width = len(schema)
    # The csv module refuses cells over 128 KiB by default; a BLOB of 100 kB is one.
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_CELL))

    def decode(path: Path, rows: list[list[str]], lines: list[int]) -> Batch:
        try:
            columns = [dec(col) for dec, col in zip(decoders, zip(*rows, strict=True), strict=True)]
        except CellError as exc:
            raise exc.at(f"{path}: line {lines[exc.index]}") from None
        return list(zip(*columns, strict=True))

    for path in files:
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            if next(reader, None) != schema.names:
                raise SchemaError(f"header differs from {files[0].name}'s", where=str(path))
            rows: list[list[str]] = []
            lines: list[int] = []
            for cells in reader:
                if not cells:  # a blank line
                    continue
                if len(cells) != width:
                    raise SchemaError(
                        f"{len(cells)} cells, the header has {width}",
                        where=f"{path}: line {reader.line_num}",
                    )
                rows.append(cells)
                lines.append(reader.line_num)
                if len(rows) == size:
                    yield decode(path, rows, lines)
                    rows, lines = [], []
            if rows:
                yield decode(path, rows, lines)
