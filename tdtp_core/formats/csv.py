"""CSV files as a table format, streamed batch by batch.

Writing: a header row of field names (``header=False``: none), then each value as its
canonical TDTP cell text (``1500.50``, ``2024-01-31T10:00:00Z``, BLOBs in Base64); NULL is
an empty cell. The schema goes to a ``<file>.schema.json`` sidecar (``schema=PATH``:
there; ``schema_sidecar=False``: nowhere), so reading the file back keeps the types.

Reading: the fields and their types come from the sidecar (or ``schema=PATH``) when there
is one; otherwise the header row names the fields (``header=False``: ``column1``,
``column2``, …) and a first pass over the files infers their types
(:mod:`tdtp_core.formats.inference`). An empty cell reads as NULL, except in TEXT fields
where it is the empty string.

Options both ways: ``delimiter`` (one character; ``\\t`` or ``tab`` for a tab),
``quoting`` (``minimal``: quote cells that need it; ``all``; ``none``: quotes are
ordinary characters, and a cell holding the delimiter, a quote or a line break cannot be
written), ``encoding`` (any Python codec; reading UTF-8 skips a byte-order mark).
"""

from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.formats import check_options
from tdtp_core.formats.inference import ColumnGuess
from tdtp_core.formats.schema_json import read_sidecar, sidecar_path, write_sidecar
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, TableStream
from tdtp_core.types import TEXT, Field, Schema
from tdtp_core.values import HAS_NULL, NULL_SENTINEL, CellError, column_decoder, column_encoder

_Quoting = Literal[0, 1, 2, 3]
_QUOTING: dict[str, _Quoting] = {"minimal": csv.QUOTE_MINIMAL, "all": csv.QUOTE_ALL,
                                 "none": csv.QUOTE_NONE}
#: The largest cell read (2 GiB - 1: the limit must fit a C long everywhere).
_MAX_CELL = 2**31 - 1
_RowBatch = tuple[Path, list[list[str]], list[int]]


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


@dataclass(frozen=True)
class _Dialect:
    """The checked options that shape the text of a file."""

    delimiter: str
    quoting: _Quoting
    encoding: str
    header: bool

    @classmethod
    def of(cls, delimiter: str, quoting: str, encoding: str, header: bool, *,
           reading: bool) -> _Dialect:
        if quoting not in _QUOTING:
            raise ConfigError(f"CSV quoting must be one of {', '.join(_QUOTING)}, "
                              f"got {quoting!r}")
        return cls(_delimiter(delimiter), _QUOTING[quoting],
                   _encoding(encoding, reading=reading), header)

    def reader(self, fh: TextIO) -> Any:
        return csv.reader(fh, delimiter=self.delimiter, quoting=self.quoting)

    def writer(self, fh: TextIO) -> Any:
        return csv.writer(fh, delimiter=self.delimiter, quoting=self.quoting,
                          lineterminator="\n")


class CsvFormat:
    """Comma-separated values (RFC 4180 quoting, ``\\n`` line ends); options in the
    module docstring."""

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
        header: bool = True,
        schema: str | os.PathLike[str] | None = None,
        schema_sidecar: bool = True,
        **unknown: Any,
    ) -> list[Path]:
        """Write one CSV file and its schema (through temporary files, so a failure
        leaves neither); returns the CSV file's path."""
        check_options(self.name, unknown, ())
        dialect = _Dialect.of(delimiter, quoting, encoding, header, reading=False)
        if schema is not None and not schema_sidecar:
            raise ConfigError("a schema file was named but schema_sidecar is off")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            with tmp.open("w", encoding=dialect.encoding, newline="") as fh:
                _write_rows(dialect.writer(fh), stream, dialect, path)
            if schema_sidecar:
                target = Path(schema) if schema is not None else sidecar_path(path)
                write_sidecar(target, stream.schema, stream.table or _table_name(path))
            os.replace(tmp, path)
            if not schema_sidecar:  # an older sidecar would give the new file wrong types
                sidecar_path(path).unlink(missing_ok=True)
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
        quoting: str = "minimal",
        encoding: str = "utf-8",
        header: bool = True,
        schema: str | os.PathLike[str] | None = None,
        schema_sidecar: bool = True,
        table: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        **unknown: Any,
    ) -> TableStream:
        """Stream one or more CSV files of the same fields as one table."""
        check_options(self.name, unknown, ())
        if not paths:
            raise ConfigError("no CSV file to read")
        files = [Path(p) for p in paths]
        dialect = _Dialect.of(delimiter, quoting, encoding, header, reading=True)
        first = _first_row(files[0], dialect)
        declared = Path(schema) if schema is not None else None
        if declared is not None and not declared.is_file():
            raise ConfigError("no such schema file", where=str(declared))
        if declared is None and schema_sidecar and sidecar_path(files[0]).exists():
            declared = sidecar_path(files[0])
        if declared is not None:
            found_table, fields = read_sidecar(declared)
            if header and first != fields.names:
                hint = "" if first is None else (" (a file without a header row needs "
                                                  "header=False, or --csv-no-header)")
                raise SchemaError(f"fields {fields.names} do not match the header {first} "
                                  f"of {files[0]}{hint}", where=str(declared))
        else:
            found_table, fields = None, _inferred(files, dialect, first, batch_size)
        name = table or found_table or _table_name(files[0])
        batches = _decoded(files, dialect, fields, batch_size)
        return TableStream(fields, batches, table=name)


def _write_rows(writer: Any, stream: TableStream, dialect: _Dialect, path: Path) -> None:
    """The header and the rows; a cell quoting ``none`` cannot write is named."""
    names = stream.schema.names
    written = 0
    batch: Sequence[Sequence[str]] = [names]
    try:
        if dialect.header:
            writer.writerow(names)
        for batch in _encoded_batches(stream):
            writer.writerows(batch)
            written += len(batch)
    except csv.Error:
        specials = (dialect.delimiter, '"', "\r", "\n")
        row, col = next((i, j) for i, cells in enumerate(batch) for j, cell in enumerate(cells)
                        if any(c in cell for c in specials))
        where = "the header" if batch is names else f"row {written + row + 1}"
        raise SchemaError(f"{where}: field {names[col]!r} holds the delimiter, a quote or a "
                          "line break, which quoting 'none' cannot write",
                          where=str(path)) from None


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


@contextmanager
def _reading(path: Path, dialect: _Dialect) -> Iterator[None]:
    """Undecodable bytes, broken quoting and a missing file as one line naming the file."""
    try:
        yield
    except FileNotFoundError:
        raise ConfigError("no such file", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"not {dialect.encoding.removesuffix('-sig')} text (byte "
            f"{exc.object[exc.start]:#04x}); name the file's encoding (encoding=…, "
            "--csv-encoding)", where=str(path)) from None
    except csv.Error as exc:
        raise SchemaError(f"not readable as CSV: {exc}", where=str(path)) from None


def _first_row(path: Path, dialect: _Dialect) -> list[str] | None:
    """The header row, or the first data row of a file without one (None: empty)."""
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_CELL))
    with _reading(path, dialect), path.open(encoding=dialect.encoding, newline="") as fh:
        return _next_row(dialect.reader(fh))


def _next_row(reader: Iterator[list[str]]) -> list[str] | None:
    return next((cells for cells in reader if cells), None)


def _inferred(files: list[Path], dialect: _Dialect, first: list[str] | None,
              batch_size: int) -> Schema:
    """Fields named by the header (or ``column1``…) typed by a first pass over the data."""
    if first is None:
        what = "a header row" if dialect.header else "a row or a schema file"
        raise SchemaError(f"empty file, expected {what}", where=str(files[0]))
    names = first if dialect.header else [f"column{i}" for i in range(1, len(first) + 1)]
    try:
        Schema(Field(name, TEXT) for name in names).validate()
    except SchemaError as exc:
        raise exc.at(str(files[0])) from None
    guesses = [ColumnGuess() for _ in names]
    for _, rows, _ in _row_batches(files, dialect, first, len(names), batch_size):
        for guess, column in zip(guesses, zip(*rows, strict=True), strict=True):
            guess.add_texts(column)
        if all(g.settled for g in guesses):
            break
    return Schema(g.field(n) for g, n in zip(guesses, names, strict=True))


def _row_batches(files: list[Path], dialect: _Dialect, first: list[str] | None, width: int,
                 size: int) -> Iterator[_RowBatch]:
    """The data rows of every file in batches, with their line numbers; each file's
    header must be the first file's, and each row as wide as the fields."""
    for path in files:
        with _reading(path, dialect), path.open(encoding=dialect.encoding, newline="") as fh:
            reader = dialect.reader(fh)
            if dialect.header and _next_row(reader) != first:
                raise SchemaError(f"header differs from {files[0].name}'s", where=str(path))
            rows: list[list[str]] = []
            lines: list[int] = []
            for cells in reader:
                if not cells:  # a blank line
                    continue
                if len(cells) != width:
                    raise SchemaError(
                        f"{len(cells)} cells, "
                        + (f"the header has {width}" if dialect.header else f"expected {width}"),
                        where=f"{path}: line {reader.line_num}",
                    )
                rows.append(cells)
                lines.append(reader.line_num)
                if len(rows) == size:
                    yield path, rows, lines
                    rows, lines = [], []
            if rows:
                yield path, rows, lines


def _decoded(files: list[Path], dialect: _Dialect, schema: Schema, size: int
             ) -> Iterator[Batch]:
    decoders = [column_decoder(f) for f in schema]
    for path, rows, lines in _row_batches(files, dialect, schema.names, len(schema), size):
        try:
            columns = [dec(col) for dec, col in zip(decoders, zip(*rows, strict=True),
                                                   strict=True)]
        except CellError as exc:
            raise exc.at(f"{path}: line {lines[exc.index]}") from None
        yield list(zip(*columns, strict=True))
