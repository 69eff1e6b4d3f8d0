"""``tdtp diff`` and ``tdtp merge``: compare and combine tables in any readable format."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from tdtp_core.cli import options
from tdtp_core.cli import processor_options as po
from tdtp_core.errors import ConfigError
from tdtp_core.plugins import get_host
from tdtp_core.stream import TableStream

Table = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False,
                   help="A packet (any part of a set; compressed is fine), CSV or workbook."),
]
Key = Annotated[
    str | None,
    typer.Option("--key", "-k", metavar="F1,F2",
                 help="Fields that identify a row (default: the first table's key fields)."),
]


def _read(path: Path) -> TableStream:
    return get_host().format_for_path(path).read([path])


def diff(
    a: Table,
    b: Table,
    key: Key = None,
    ignore: Annotated[
        str | None,
        typer.Option("--ignore", metavar="F1,F2", help="Fields left out of the comparison."),
    ] = None,
    ignore_case: Annotated[
        bool, typer.Option("--ignore-case", help="Compare TEXT fields case-insensitively."),
    ] = False,
    json_out: options.Json = False,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
) -> None:
    """Show the rows added, removed and changed from A to B, sorted by key.

    Tables without a key (and no --key) are compared as multisets of whole rows. The
    exit code is 0 whether or not the tables differ; "equal" in the --json output (and
    the last line of the text report) tells which.

    \b
    Examples:
      tdtp diff old.tdtp.xml new.tdtp.xml
      tdtp diff yesterday.tdtp.xml today.tdtp_part_1_of_3.xml --key id --json
      tdtp diff a.xlsx b.csv --ignore updated_at --mask email:hash:s3cret
    """
    from tdtp_core.compare import diff as compare
    from tdtp_core.processors import apply

    # One chain per table: each side is processed on its own (A is read twice).
    chain_a = po.processor_chain(mask, normalize, validate, process)
    chain_b = po.processor_chain(mask, normalize, validate, process)
    result = compare(lambda: apply(_read(a), chain_a), apply(_read(b), chain_b),
                     key=options.split_names(key), ignore=options.split_names(ignore) or (),
                     ignore_case=ignore_case)
    if json_out:
        typer.echo(json.dumps({"a": str(a), "b": str(b), **result.as_dict()}, indent=2,
                              ensure_ascii=False))
        return
    typer.echo(result.text())
    typer.echo("\n✓ Files are identical" if result.equal else "\n✗ Files differ")


def merge(
    inputs: Annotated[
        list[Path],
        typer.Argument(metavar="TABLE...", exists=True, dir_okay=False,
                       help="Two or more tables: packets, CSV files or workbooks."),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Output file; its extension picks the format."),
    ],
    strategy: Annotated[
        str,
        typer.Option("--strategy", "-s", metavar="STRATEGY",
                     help="union (first occurrence of a key wins), left-wins, right-wins "
                          "(last wins), intersection (keys in every table), append."),
    ] = "union",
    key: Key = None,
    compress: options.Compress = None,
    compress_level: options.CompressLevel = 3,
    integrity: options.Integrity = False,
    part_size: options.PartSize = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
) -> None:
    """Merge tables with the same fields into one, each key once.

    Field types must match or be compatible (INTEGER, REAL and DECIMAL widen to the
    type holding all of them); otherwise the error names the differing fields.

    \b
    Examples:
      tdtp merge jan.tdtp.xml feb.tdtp.xml -o q1.tdtp.xml
      tdtp merge base.tdtp.xml fixes.csv -o fixed.tdtp.xml --strategy right-wins
      tdtp merge a.tdtp.xml b.tdtp.xml -o both.tdtp.xml --strategy intersection --key id
    """
    from tdtp_core.compare import merge as combine
    from tdtp_core.processors import apply

    if len(inputs) < 2:
        raise ConfigError("merge needs at least two tables")
    chain = po.processor_chain(mask, normalize, validate, process)
    host = get_host()
    write_options: dict[str, Any] = {
        "compress": compress,
        "compress_level": compress_level if compress else None,
        "integrity": integrity or None,
        "part_size": part_size,
    }
    given = {k: v for k, v in write_options.items() if v is not None}
    sink = host.format_for_path(output)
    result = combine([partial(_read, p) for p in inputs], strategy=strategy,
                     key=options.split_names(key), labels=[str(p) for p in inputs])
    written = sink.write(apply(result.stream, chain), output, **given)
    stats = result.stats
    if json_out:
        typer.echo(json.dumps({"files": [str(p) for p in inputs], "table": result.stream.table,
                               **stats.as_dict(), "outputs": [str(p) for p in written]},
                              indent=2, ensure_ascii=False))
    elif not quiet:
        typer.echo(stats.text())
        typer.echo(f"\n✓ Merged file saved to: {', '.join(str(p) for p in written)}")


def register(app: typer.Typer) -> None:
    app.command("diff", cls=po.ProcessingCommand)(diff)
    app.command("merge", cls=po.ProcessingCommand)(merge)
