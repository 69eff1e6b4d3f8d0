"""The option vocabulary every command shares (design §5): one spelling, one help text.

Declare a parameter with one of these types and its default, e.g.::

    def export(table: str, where: options.Where = None, limit: options.Limit = None,
               compress: options.Compress = None, part_size: options.PartSize = None,
               quiet: options.Quiet = False, json_out: options.Json = False) -> None: ...
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

_SIZE = re.compile(r"^\s*(\d+)\s*(?:([KMG])(?:i?B)?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str) -> int:
    """Bytes from ``1900000``, ``512KB`` or ``1MB`` (1024-based; ``K``/``M``/``G``)."""
    m = _SIZE.match(text)
    if not m:
        raise typer.BadParameter(f"{text!r} is not a size; use bytes or e.g. 512KB, 2MB")
    size = int(m.group(1)) * _UNITS[(m.group(2) or "").upper()]
    if size <= 0:
        raise typer.BadParameter("the size must be positive")
    return size


def split_names(text: str | None) -> list[str] | None:
    """``"a, b,c"`` to ``["a", "b", "c"]``; ``None`` stays ``None``."""
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


class Strategy(StrEnum):
    """How an import treats rows whose key already exists (DECISIONS 12)."""

    REPLACE = "replace"
    IGNORE = "ignore"
    FAIL = "fail"
    COPY = "copy"


_QUERY = "Query"
_PACKET = "Packet output"

Where = Annotated[
    list[str] | None,
    typer.Option(
        "--where", "-w", metavar="CONDITION", rich_help_panel=_QUERY,
        help="TDTQL filter, e.g. \"age >= 18 AND city = 'Paris'\"; repeat to AND several.",
    ),
]
OrderBy = Annotated[
    str | None,
    typer.Option("--order-by", metavar="FIELDS", rich_help_panel=_QUERY,
                 help='Sort order, e.g. "name ASC, id DESC".'),
]
Limit = Annotated[
    int | None,
    typer.Option("--limit", "-l", rich_help_panel=_QUERY,
                 help="Keep the first N rows; a negative N keeps the last N."),
]
Offset = Annotated[
    int | None,
    typer.Option("--offset", min=0, rich_help_panel=_QUERY, help="Skip the first N rows."),
]
Compress = Annotated[
    str | None,
    typer.Option("--compress", metavar="CODEC", rich_help_panel=_PACKET,
                 help="Compress the rows of each part with CODEC (zstd)."),
]
CompressLevel = Annotated[
    int,
    typer.Option("--compress-level", metavar="N", rich_help_panel=_PACKET,
                 help="Compression level (zstd: 1 fastest … 19 smallest)."),
]
Integrity = Annotated[
    bool,
    typer.Option("--integrity", rich_help_panel=_PACKET,
                 help="Add v1.4 xxh3 integrity hashes to every part."),
]
Compact = Annotated[
    bool,
    typer.Option("--compact", rich_help_panel=_PACKET,
                 help="Compact format: fixed fields are written once per run of rows."),
]
FixedFields = Annotated[
    str | None,
    typer.Option("--fixed-fields", metavar="A,B", rich_help_panel=_PACKET,
                 help="Fields --compact treats as fixed (default: detected)."),
]
PartSize = Annotated[
    int | None,
    typer.Option("--part-size", metavar="SIZE", parser=parse_size, rich_help_panel=_PACKET,
                 help="Largest part in bytes, or with KB/MB suffix (1024-based), e.g. 1MB."),
]
StrategyOption = Annotated[
    Strategy,
    typer.Option("--strategy", case_sensitive=False,
                 help="On existing keys: replace (upsert), ignore, fail, or copy (swap "
                      "the whole table)."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
Json = Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")]


Sheet = Annotated[
    str | None,
    typer.Option("--sheet", metavar="NAME",
                 help="Workbook sheet to read (XLSX input) or to write (XLSX output)."),
]
TableName = Annotated[
    str | None,
    typer.Option("--table", metavar="NAME",
                 help="Table name of the rows read (CSV and XLSX inputs carry none)."),
]


_CSV = "CSV files"
CsvDelimiter = Annotated[
    str | None,
    typer.Option("--csv-delimiter", metavar="CHAR", rich_help_panel=_CSV,
                 help="Cell separator: one character, or \\t for a tab (default ,)."),
]
CsvQuoting = Annotated[
    str | None,
    typer.Option("--csv-quoting", metavar="MODE", rich_help_panel=_CSV,
                 help="minimal (default: quote cells that need it), all, or none (quotes "
                      "are plain characters)."),
]
CsvEncoding = Annotated[
    str | None,
    typer.Option("--csv-encoding", metavar="CODEC", rich_help_panel=_CSV,
                 help="Text encoding, e.g. cp1251 (default utf-8; a BOM is skipped)."),
]
CsvNoHeader = Annotated[
    bool,
    typer.Option("--csv-no-header", rich_help_panel=_CSV,
                 help="No header row: fields come from the schema, else column1, column2, …"),
]
CsvSchema = Annotated[
    Path | None,
    typer.Option("--csv-schema", metavar="FILE", dir_okay=False, rich_help_panel=_CSV,
                 help="Schema JSON of the CSV file, instead of FILE.csv.schema.json: "
                      "read from it (input) or written to it (output)."),
]
CsvNoSchema = Annotated[
    bool,
    typer.Option("--csv-no-schema", rich_help_panel=_CSV,
                 help="Output: write no .schema.json; input: ignore it and infer types."),
]
