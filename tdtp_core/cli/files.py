"""Files on the command line: the format an extension picks, the options that reach it,
and the tables a set of input files holds.

``convert``, ``export`` and ``import`` share this, so a ``.csv`` or ``.xlsx`` name means
the same to each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tdtp_core.errors import ConfigError
from tdtp_core.plugins import get_host
from tdtp_core.protocols import MultiTableFormat

if TYPE_CHECKING:
    from tdtp_core.protocols import Format
    from tdtp_core.stream import TableStream

PACKET = "tdtp"
CSV = "csv"
_KIND = {PACKET: "packet"}


@dataclass(frozen=True)
class CsvOptions:
    """The ``--csv-*`` options as given; they apply to whichever side is a CSV file."""

    delimiter: str | None = None
    quoting: str | None = None
    encoding: str | None = None
    no_header: bool = False
    schema: Path | None = None
    no_schema: bool = False

    def given(self) -> list[str]:
        """The options given, as typed."""
        flags = (("--csv-delimiter", self.delimiter is not None),
                 ("--csv-quoting", self.quoting is not None),
                 ("--csv-encoding", self.encoding is not None),
                 ("--csv-no-header", self.no_header),
                 ("--csv-schema", self.schema is not None),
                 ("--csv-no-schema", self.no_schema))
        return [name for name, on in flags if on]

    def format_options(self) -> dict[str, Any]:
        """As options of the CSV format (reading and writing take the same ones)."""
        if self.schema is not None and self.no_schema:
            raise ConfigError("--csv-schema and --csv-no-schema contradict each other")
        out: dict[str, Any] = {k: v for k, v in (
            ("delimiter", self.delimiter), ("quoting", self.quoting),
            ("encoding", self.encoding), ("schema", self.schema)) if v is not None}
        if self.no_header:
            out["header"] = False
        if self.no_schema:
            out["schema_sidecar"] = False
        return out

    def check_used(self, *formats: str) -> None:
        """Refuse ``--csv-*`` options when no file involved is CSV."""
        given = self.given()
        if given and CSV not in formats:
            raise ConfigError(f"{', '.join(given)}: only for CSV files, and no input or "
                              "output here is one")


def format_of(path: Path) -> Format:
    """The format that owns ``path``'s extension."""
    return get_host().format_for_path(path)


def holds_sheets(fmt: Format | None) -> bool:
    """Whether a file of ``fmt`` holds several tables (sheets), so ``--sheet`` means
    something to it."""
    return isinstance(fmt, MultiTableFormat)


def packet_options(*, compress: str | None, compress_level: int, integrity: bool,
                   compact: bool, fixed_fields: Sequence[str] | None,
                   part_size: int | None) -> dict[str, Any]:
    """The packet options given (not left at their defaults); a format other than the
    packet refuses them by name."""
    options: dict[str, Any] = {
        "compress": compress,
        "compress_level": compress_level if compress else None,
        "integrity": integrity or None,
        "compact": compact or None,
        "fixed_fields": fixed_fields,
        "part_size": part_size,
    }
    return {k: v for k, v in options.items() if v is not None}


def read_options(fmt: Format, *, sheet: str | None, table: str | None,
                 csv: CsvOptions) -> dict[str, Any]:
    """``--sheet``, ``--table`` and ``--csv-*`` for reading a file of ``fmt`` (packets
    carry their own table name and take none)."""
    if fmt.name == PACKET:
        return {}
    out: dict[str, Any] = {k: v for k, v in (("sheet", sheet), ("table", table)) if v}
    if fmt.name == CSV:
        out.update(csv.format_options())
    return out


def write_options(fmt: Format, packet: Mapping[str, Any], *, sheet: str | None,
                  csv: CsvOptions) -> dict[str, Any]:
    """Options for writing a file of ``fmt``: the packet options given (refused by other
    formats), ``--sheet`` when the format holds sheets, ``--csv-*`` for CSV."""
    out = dict(packet)
    if sheet and holds_sheets(fmt):
        out["sheet"] = sheet
    if fmt.name == CSV:
        out.update(csv.format_options())
    return out


@dataclass(frozen=True)
class Source:
    """One table of the inputs: what to call it, and how to open it when its turn comes."""

    label: str
    open: Callable[[], TableStream]


def sources(inputs: Sequence[Path], *, sheet: str | None, table: str | None,
            csv: CsvOptions) -> list[Source]:
    """The tables the input files hold: a packet set each, one table for CSV files, and
    every visible sheet of one workbook unless ``--sheet`` picks one."""
    fmt = format_of(inputs[0])
    others = {format_of(p).name for p in inputs} - {fmt.name}
    if others:
        raise ConfigError(f"inputs mix file formats: {', '.join(sorted({fmt.name, *others}))}")
    options = read_options(fmt, sheet=sheet, table=table, csv=csv)
    if fmt.name == PACKET:
        from tdtp_core.cli.packets import packet_sets

        return [Source(", ".join(map(str, group)), partial(fmt.read, group, **options))
                for group in packet_sets(list(inputs))]
    if sheet is None and len(inputs) == 1 and isinstance(fmt, MultiTableFormat):
        path = inputs[0]
        names = fmt.table_names(path)
        if len(names) > 1:
            if table:
                raise ConfigError(f"--table names one table, but the workbook has sheets "
                                  f"{', '.join(names)}: add --sheet NAME", where=str(path))
            return [Source(f"{path} [{name}]", partial(fmt.read_table, path, name, **options))
                    for name in names]
    return [Source(", ".join(map(str, inputs)), partial(fmt.read, list(inputs), **options))]


def multi_table_format(output: Path, count: int) -> MultiTableFormat:
    """The format of ``output`` if one file of it holds ``count`` tables; else one clear
    line saying which extensions do."""
    fmt = format_of(output)
    if isinstance(fmt, MultiTableFormat):
        return fmt
    able = sorted({e for c in get_host().formats for e in c.extensions
                   if isinstance(get_host().format(c.name), MultiTableFormat)})
    hint = f"write {' or '.join(able)}, or " if able else ""
    kind = _KIND.get(fmt.name, fmt.name)
    raise ConfigError(f"the inputs hold {count} tables and a {kind} file holds one: "
                      f"{hint}convert them one at a time", where=str(output))
