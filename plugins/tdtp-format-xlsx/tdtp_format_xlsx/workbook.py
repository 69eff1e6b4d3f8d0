"""Excel workbooks as a table format: one sheet per table, streamed both ways.

Writing uses openpyxl's write-only mode (rows go to disk as they come); reading uses its
read-only mode (rows are parsed as they are pulled). Neither holds a sheet in memory.

Layout: row 1 is a header of field names (``header_types=True`` writes the reference's
``name (TYPE) *`` instead), data from row 2, one sheet per table named after it. A hidden
sheet ``_tdtp_schema`` keeps each sheet's table name and full schema (key, DECIMAL scale,
time zones, ...) so a workbook tdtp wrote reads back with exactly its types.

Workbooks from other tools: the header is the ``header_row`` given, else the first of the
leading rows that holds only text and has the most cells; a header in the reference's
``name (TYPE) *`` form declares types, other columns get the narrowest type that holds
all their cells (a first pass over the sheet). Blank rows are skipped, blank header cells
are named by column letter, formula cells read as the result Excel saved with them (a
workbook never calculated by a spreadsheet program has none: those cells read as NULL),
and Excel error values (``#N/A``) read as NULL.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.formats import check_options
from tdtp_core.formats.inference import ColumnGuess
from tdtp_core.formats.schema_json import schema_from_dict, schema_to_dict
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, TableStream
from tdtp_core.types import BLOB, TEXT, Field, Schema, canonical_type, is_known_type
from tdtp_core.values import CellError
from tdtp_format_xlsx import cells

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

SCHEMA_SHEET = "_tdtp_schema"
#: Leading rows searched for the header of a workbook tdtp did not write.
HEADER_SCAN = 20
_BAD_TITLE = re.compile(r"[:\\/?*\[\]]")
_TYPED_HEADER = re.compile(r"^(.*)\(([^()]*)\)$")
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
#: Cell texts of the schema sheet are cut into pieces of this size (Excel's cell limit).
_CHUNK = 30000


def sheet_title(name: str) -> str:
    """Excel's rules for a sheet name: no ``: \\ / ? * [ ]``, at most 31 characters."""
    return _BAD_TITLE.sub("_", name)[:31] or "Sheet1"


# --------------------------------------------------------------------------- writing


def write_workbook(
    path: str | os.PathLike[str],
    tables: Iterable[TableStream | tuple[str, TableStream]],
    *,
    header_types: bool = False,
    replace_invalid: bool = False,
) -> Path:
    """Write tables as the sheets of one workbook (``(sheet name, stream)`` pairs or
    streams, named after their tables). Written to a temporary file first, so a failure
    leaves nothing behind."""
    from openpyxl import Workbook

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    workbook = Workbook(write_only=True)
    written: list[tuple[str, str, Schema]] = []
    try:
        for item in tables:
            name, stream = item if isinstance(item, tuple) else (None, item)
            title = sheet_title(name or stream.table)
            if title.casefold() in {t.casefold() for t, _, _ in written}:
                raise ConfigError(f"two tables would both be written to sheet {title!r}",
                                  where=str(target))
            _write_sheet(workbook.create_sheet(title), title, stream, target, header_types,
                         replace_invalid)
            written.append((title, stream.table or title, stream.schema))
        if not written:
            raise ConfigError("no table to write", where=str(target))
        _write_schema_sheet(workbook, written)
        workbook.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        for ws in workbook.worksheets:  # finish their spooled XML so nothing dangles
            with suppress(Exception):
                ws.close()
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _header(ws: WriteOnlyWorksheet, schema: Schema, typed: bool) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    out = []
    for f in schema:
        cell = WriteOnlyCell(ws, f"{f.name} ({f.type})" + (" *" if f.key else "")
                             if typed else f.name)
        cell.data_type = "s"
        cell.font = Font(bold=True)
        out.append(cell)
    return out


def _write_sheet(ws: WriteOnlyWorksheet, title: str, stream: TableStream, path: Path,
                 header_types: bool, replace_invalid: bool) -> None:
    ws.freeze_panes = "A2"
    ws.append(_header(ws, stream.schema, header_types))
    writers = [_column_writer(ws, f, replace_invalid) for f in stream.schema]
    row = 2
    for batch in stream.batches():
        try:
            columns = [w(col) for w, col in zip(writers, zip(*batch, strict=True), strict=True)]
        except CellError as exc:
            raise exc.at(f"{path}: sheet {title!r} row {row + exc.index}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise SchemaError(f"a value does not fit its field: {exc}",
                              where=f"{path}: sheet {title!r}") from None
        for values in zip(*columns, strict=True):
            ws.append(values)
        row += len(batch)


def _column_writer(ws: WriteOnlyWorksheet, field: Field, replace_invalid: bool
                   ) -> cells.ColumnWriter:
    convert = cells.value_writer(field)
    if convert is None and field.kind == TEXT:
        return _texts_checked(field, _text_cells(ws, field, replace_invalid))
    if field.kind == BLOB and convert is not None:
        as_cells = _text_cells(ws, field, replace_invalid)
        encode = convert
        return _texts_checked(field, lambda values: as_cells(encode(values)))
    return convert or list  # BOOLEAN: Excel booleans as they are


def _texts_checked(field: Field, convert: cells.ColumnWriter) -> cells.ColumnWriter:
    """Refuse texts longer than a cell holds (openpyxl would silently cut them)."""

    def column(values: Sequence[Any]) -> list[Any]:
        out = convert(values)
        for i, v in enumerate(out):
            if isinstance(v, str) and len(v) > cells.MAX_TEXT:
                raise CellError(i, field, v, f"{len(v)} characters do not fit in an Excel "
                                             f"cell (at most {cells.MAX_TEXT})")
        return out

    return column


def _text_cells(ws: WriteOnlyWorksheet, field: Field, replace_invalid: bool
                ) -> cells.ColumnWriter:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.rich_text import CellRichText

    def as_text(value: str) -> Any:
        if value == "":
            return CellRichText([""])  # an empty text cell, read back as "" (NULL: no cell)
        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"  # "=1+1" is text here, never a formula
        return cell

    def column(values: Sequence[Any]) -> list[Any]:
        texts = [v for v in values if v]
        joined = "\n".join(texts)
        if _ILLEGAL.search(joined):
            if not replace_invalid:
                i = next(i for i, v in enumerate(values) if v and _ILLEGAL.search(v))
                bad = _ILLEGAL.search(values[i])
                assert bad is not None
                raise CellError(i, field, values[i], f"character U+{ord(bad.group()):04X} "
                                "cannot be written to Excel (use replace_invalid)")
            values = [_ILLEGAL.sub("\ufffd", v) if v else v for v in values]
        if "" in values or "\n=" in "\n" + joined:
            return [as_text(v) if v == "" or (v and v[0] == "=") else v for v in values]
        return list(values)

    return column


def _write_schema_sheet(workbook: Workbook, written: list[tuple[str, str, Schema]]) -> None:
    ws = workbook.create_sheet(SCHEMA_SHEET)
    ws.sheet_state = "hidden"
    ws.append(["sheet", "table", "schema"])
    for title, table, schema in written:
        text = json.dumps(schema_to_dict(schema, table), ensure_ascii=False)
        ws.append([title, table, *(text[i:i + _CHUNK] for i in range(0, len(text), _CHUNK))])


# --------------------------------------------------------------------------- reading


def _open(path: Path) -> Workbook:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ConfigError("no such file", where=str(path)) from None
    except Exception as exc:  # zipfile, KeyError, lxml: all mean "not a workbook"
        raise SchemaError(f"not an xlsx workbook ({type(exc).__name__}: {exc})",
                          where=str(path)) from None


def _saved_schemas(workbook: Workbook, path: Path) -> dict[str, tuple[str, Schema]]:
    """Sheet title → (table, schema) from the hidden schema sheet tdtp writes."""
    if SCHEMA_SHEET not in workbook.sheetnames:
        return {}
    out: dict[str, tuple[str, Schema]] = {}
    for row in list(workbook[SCHEMA_SHEET].iter_rows(min_row=2, values_only=True)):
        if not row or not isinstance(row[0], str):
            continue
        try:
            table, schema = schema_from_dict(json.loads("".join(str(c) for c in row[2:] if c)))
        except (ValueError, SchemaError) as exc:
            raise SchemaError(f"sheet {SCHEMA_SHEET!r} is damaged: {exc}",
                              where=str(path)) from None
        out[row[0]] = (table or str(row[1] or row[0]), schema)
    return out


def sheet_names(path: str | os.PathLike[str], *, visible_only: bool = False) -> list[str]:
    """The data sheets of a workbook, in order (tdtp's schema sheet left out; with
    ``visible_only`` the sheets hidden in Excel too)."""
    workbook = _open(Path(path))
    try:
        return [n for n in workbook.sheetnames if n != SCHEMA_SHEET
                and (not visible_only or workbook[n].sheet_state == "visible")]
    finally:
        workbook.close()


@dataclass
class _SheetPlan:
    """How one sheet reads: its schema and where its rows are."""

    path: Path
    title: str
    table: str
    schema: Schema
    first_row: int
    #: A sheet tdtp wrote keeps its blank rows (all-NULL rows); others skip them.
    keep_blank: bool

    def batches(self, size: int) -> Iterator[Batch]:
        workbook = _open(self.path)
        try:
            ws = workbook[self.title]
            readers = [_column_reader(f, foreign=not self.keep_blank) for f in self.schema]
            width = len(self.schema)
            rows: list[tuple[Any, ...]] = []
            numbers: list[int] = []
            for number, row in enumerate(
                    ws.iter_rows(min_row=self.first_row, values_only=True), self.first_row):
                if len(row) != width:
                    row = (row + (None,) * width)[:width]
                if not self.keep_blank and all(v is None for v in row):
                    continue
                rows.append(row)
                numbers.append(number)
                if len(rows) == size:
                    yield self._convert(rows, numbers, readers)
                    rows, numbers = [], []
            if rows:
                yield self._convert(rows, numbers, readers)
        finally:
            workbook.close()

    def _convert(self, rows: list[tuple[Any, ...]], numbers: list[int],
                 readers: list[Callable[[Sequence[Any]], list[Any]]]) -> Batch:
        try:
            columns = [r(c) for r, c in zip(readers, zip(*rows, strict=True), strict=True)]
        except CellError as exc:
            raise exc.at(f"{self.path}: sheet {self.title!r} row {numbers[exc.index]}"
                         ) from None
        return list(zip(*columns, strict=True))


def _column_reader(field: Field, *, foreign: bool) -> Callable[[Sequence[Any]], list[Any]]:
    read = cells.value_reader(field)
    errors = cells.ERROR_VALUES if foreign else frozenset()

    def column(values: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for i, v in enumerate(values):
            if v is None or v in errors:
                out.append(None)
                continue
            try:
                out.append(read(v))
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise CellError(i, field, str(v), f"not a {field.type} value ({exc})") from None
        return out

    return column


def _plan(path: Path, workbook: Workbook, sheet: str | None, header_row: int | None
          ) -> _SheetPlan:
    names = [n for n in workbook.sheetnames if n != SCHEMA_SHEET]
    if sheet is None:
        title = next((n for n in names if workbook[n].sheet_state == "visible"), names[0])
    else:
        found = [n for n in names if n == sheet] or [n for n in names
                                                      if n.casefold() == sheet.casefold()]
        if not found:
            raise ConfigError(f"sheet {sheet!r} not found; the workbook has: "
                              f"{', '.join(names)}", where=str(path))
        title = found[0]
    ws = workbook[title]
    saved = _saved_schemas(workbook, path).get(title)
    if saved is not None and header_row in (None, 1):
        header = next(ws.iter_rows(max_row=1, values_only=True), ())
        if list(header[:len(saved[1])]) == saved[1].names:
            return _SheetPlan(path, title, saved[0], saved[1], 2, keep_blank=True)
    return _foreign_plan(path, ws, title, header_row)


def _foreign_plan(path: Path, ws: Any, title: str, header_row: int | None
                  ) -> _SheetPlan:
    """A sheet tdtp did not write (``ws`` is read-only; openpyxl's stubs miss that type)."""
    if header_row is None:
        header_row, header = _find_header(ws)
    else:
        header = next(ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True),
                      ())
    names = [cells.cell_text(v).strip() if v is not None else "" for v in header]
    guesses = [ColumnGuess() for _ in names]
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        for i, v in enumerate(row):
            if v is None or v in cells.ERROR_VALUES:
                continue
            while i >= len(guesses):
                guesses.append(ColumnGuess())
                names.append("")
            guesses[i].add_values((v,))
    while names and not names[-1] and not guesses[-1].kinds:
        names.pop()
        guesses.pop()
    if not names:
        raise SchemaError("the sheet is empty", where=f"{path}: sheet {title!r}")
    fields = _fields(names, guesses)
    schema = Schema(fields)
    try:
        schema.validate()
    except SchemaError as exc:
        raise exc.at(f"{path}: sheet {title!r}") from None
    return _SheetPlan(path, title, title, schema, header_row + 1, keep_blank=False)


def _find_header(ws: Any) -> tuple[int, tuple[Any, ...]]:
    """The first of the leading rows that holds only text and the most cells of those."""
    best: tuple[int, int, tuple[Any, ...]] | None = None
    first: tuple[int, tuple[Any, ...]] | None = None
    for number, row in enumerate(ws.iter_rows(max_row=HEADER_SCAN, values_only=True), 1):
        filled = [v for v in row if v is not None]
        if not filled:
            continue
        first = first or (number, row)
        if all(isinstance(v, str) for v in filled) and (best is None or len(filled) > best[0]):
            best = (len(filled), number, row)
    if best is not None:
        return best[1], best[2]
    return first if first is not None else (1, ())


def _fields(names: list[str], guesses: list[ColumnGuess]) -> list[Field]:
    """Fields from header texts: ``name (TYPE) *`` declares, other columns are inferred;
    blank names become the column letter, repeated names get ``_2``, ``_3``."""
    from openpyxl.utils import get_column_letter

    fields: list[Field] = []
    seen: set[str] = set()
    for i, (text, guess) in enumerate(zip(names, guesses, strict=True)):
        key = text.endswith(" *")
        body = text[:-2].rstrip() if key else text
        match = _TYPED_HEADER.match(body)
        if match is not None and is_known_type(match.group(2)):
            name = match.group(1).strip() or get_column_letter(i + 1)
            field = Field(name, canonical_type(match.group(2)), key=key)
        else:
            field = guess.field(text or get_column_letter(i + 1))
        name, n = field.name, 1
        while name in seen:
            n += 1
            name = f"{field.name}_{n}"
        seen.add(name)
        fields.append(field.replace(name=name))
    return fields


def read_workbook(
    path: str | os.PathLike[str], *, header_row: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[TableStream]:
    """Every data sheet of a workbook as a stream (read lazily, sheet by sheet)."""
    return [XlsxFormat().read([Path(path)], sheet=name, header_row=header_row,
                              batch_size=batch_size) for name in sheet_names(path)]


class XlsxFormat:
    """Excel workbooks (``.xlsx``): one sheet per table (see the module docstring).

    Read options: ``sheet`` (default: the first visible sheet), ``table`` (default: the
    table name saved by tdtp, else the sheet name), ``header_row`` (1-based).
    Write options: ``sheet`` (default: the table name), ``header_types``,
    ``replace_invalid`` (control characters as U+FFFD instead of an error).
    Several tables: ``table_names`` (the visible sheets), ``read_table``,
    ``write_tables`` (a sheet per table, named after it).
    """

    name = "xlsx"
    extensions = (".xlsx",)

    def write(self, stream: TableStream, path: Path, *, sheet: str | None = None,
              header_types: bool = False, replace_invalid: bool = False,
              **unknown: Any) -> list[Path]:
        check_options(self.name, unknown, ())
        item = stream if sheet is None else (sheet, stream)
        return [write_workbook(path, [item], header_types=header_types,
                               replace_invalid=replace_invalid)]

    def write_tables(self, streams: Iterable[TableStream], path: Path, *,
                     header_types: bool = False, replace_invalid: bool = False,
                     **unknown: Any) -> list[Path]:
        check_options(self.name, unknown, ())
        return [write_workbook(path, streams, header_types=header_types,
                               replace_invalid=replace_invalid)]

    def table_names(self, path: Path) -> list[str]:
        return sheet_names(path, visible_only=True)

    def read_table(self, path: Path, name: str, **options: Any) -> TableStream:
        return self.read([path], sheet=name, **options)

    def read(self, paths: Sequence[Path], *, sheet: str | None = None,
             table: str | None = None, header_row: int | None = None,
             batch_size: int = DEFAULT_BATCH_SIZE, **unknown: Any) -> TableStream:
        """Read one sheet; several workbooks are read as one table if their sheets
        have the same fields."""
        check_options(self.name, unknown, ())
        if not paths:
            raise ConfigError("no workbook to read")
        if header_row is not None and header_row < 1:
            raise ConfigError(f"header_row counts from 1, got {header_row}")
        plans: list[_SheetPlan] = []
        for path in map(Path, paths):
            workbook = _open(path)
            try:
                plans.append(_plan(path, workbook, sheet, header_row))
            finally:
                workbook.close()
        first = plans[0]
        for plan in plans[1:]:
            if not plan.schema.compatible_with(first.schema):
                raise SchemaError(f"fields {plan.schema.names} differ from those of "
                                  f"{first.path} ({first.schema.names})", where=str(plan.path))

        def batches() -> Iterator[Batch]:
            for plan in plans:
                yield from plan.batches(batch_size)

        return TableStream(first.schema, batches(), table=table or first.table)
