"""``tdtp pipeline run | validate | schema``: ETL pipelines described in YAML.

The run summary goes to stdout (``--json`` for one JSON object, ``--summary-json PATH``
writes it to a file, whatever the outcome); progress bars per source go to stderr when
it is a terminal. The exit code is the failure kind's (``tdtp --help`` lists them).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from typer.core import TyperCommand, TyperGroup

from tdtp_core.cli import options
from tdtp_core.cli import processor_options as po
from tdtp_core.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from tdtp_core.pipeline import Pipeline
    from tdtp_core.processors import ProcessorChain

_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True)

File = Annotated[Path, typer.Argument(metavar="FILE", help="The pipeline YAML file.")]
Vars = Annotated[list[str] | None, typer.Option(
    "--var", metavar="NAME=VALUE",
    help="Value of a declared variable (repeatable); it reaches SQL as the bound "
         "parameter :NAME.")]


def _load(file: Path, var: list[str] | None, summary_json: Path | None = None,
          extra: Callable[[], ProcessorChain] | None = None) -> Pipeline:
    """The pipeline, with the processors of ``extra`` (the command's processor options)
    after its own; or every problem on stderr and exit code 2."""
    from tdtp_core.pipeline import PipelineConfigError, load_pipeline
    from tdtp_core.pipeline.loader import ProcessorItem
    from tdtp_core.pipeline.variables import parse_assignment

    try:
        chain = extra() if extra is not None else None
        variables = dict(parse_assignment(v) for v in var or ())
        pipeline = load_pipeline(file, variables=variables)
        if chain is not None:
            pipeline.processors.extend(ProcessorItem(p, option or "command line")
                                       for p, option in zip(chain, chain.options, strict=True))
        return pipeline
    except ConfigError as exc:
        problems = exc.problems if isinstance(exc, PipelineConfigError) else [str(exc)]
        for problem in problems:
            sys.stderr.write(f"tdtp: config error: {problem}\n")
        if summary_json is not None:
            summary_json.write_text(json.dumps(
                {"file": str(file), "status": "failed", "error": "\n".join(problems),
                 "error_kind": exc.kind, "exit_code": exc.exit_code}, indent=2) + "\n",
                encoding="utf-8")
        raise typer.Exit(exc.exit_code) from None


class _Bars:
    """One progress line per source on stderr (rich), updated from the run's thread."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bars: Progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"),
            TextColumn("{task.completed:,.0f} rows"), TimeElapsedColumn(),
            console=Console(stderr=True))
        self.tasks: dict[str, TaskID] = {}

    def start(self, name: str) -> None:
        self.tasks[name] = self.bars.add_task(f"source {name}", total=None)

    def advance(self, name: str, rows: int) -> None:
        self.bars.advance(self.tasks[name], rows)

    def finish(self, name: str, status: str) -> None:
        task = self.tasks.get(name)
        if task is not None:
            done = self.bars.tasks[task].completed
            self.bars.update(task, description=f"source {name}: {status}", total=done or 1,
                             completed=done or 1)


@_app.command("run", cls=po.ProcessingCommand)
def run(
    file: File,
    var: Vars = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Extract, transform and process; write nothing.")] = False,
    summary_json: Annotated[Path | None, typer.Option(
        "--summary-json", metavar="PATH", help="Write the run summary as JSON here.")] = None,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Run a pipeline: extract the sources in parallel, transform, process, write.

    The processor options run after the file's processors, in the order given, once
    per result table, so every output gets them.

    Examples:

      tdtp pipeline run orders.yaml

      tdtp pipeline run incremental.yaml --var since=2026-01-01T00:00:00Z

      tdtp pipeline run report.yaml --dry-run --summary-json run.json

      tdtp pipeline run report.yaml --mask email:hash:pepper --validate rules.yaml
    """
    from tdtp_core.pipeline import run_pipeline

    pipeline = _load(file, var, summary_json,
                     partial(po.processor_chain, mask, normalize, validate, process))
    bars = _Bars() if sys.stderr.isatty() and not (quiet or json_out) else None
    if bars is not None:
        with bars.bars:
            summary = run_pipeline(pipeline, dry_run=dry_run, progress=bars)
    else:
        summary = run_pipeline(pipeline, dry_run=dry_run)
    if summary_json is not None:
        summary.write_json(summary_json)
    if json_out:
        typer.echo(json.dumps(summary.as_dict(), default=str))
    elif not quiet:
        typer.echo("\n".join(summary.lines()))
    summary.raise_for_error()


@_app.command("validate")
def validate(
    file: File,
    var: Vars = None,
    offline: Annotated[bool, typer.Option(
        "--offline", help="Check the file only: connect to no database or broker.")] = False,
    json_out: options.Json = False,
) -> None:
    """Check a pipeline without moving data: the file, that its databases and brokers
    answer, that the source schemas read, and that the transform SQL runs against empty
    tables of those schemas.

    Examples:

      tdtp pipeline validate orders.yaml

      tdtp pipeline validate orders.yaml --offline --var since=2026-01-01
    """
    from tdtp_core.pipeline import validate_pipeline

    checks = validate_pipeline(_load(file, var), connect=not offline)
    if json_out:
        typer.echo(json.dumps([{"where": c.where, "what": c.what, "ok": c.ok,
                                "error": None if c.ok else str(c.error)} for c in checks]))
    else:
        for c in checks:
            typer.echo(f"ok    {c.where}: {c.what}" if c.ok else f"FAIL  {c.where}: {c.error}")
    failed = next((c.error for c in checks if c.error is not None), None)
    if failed is not None:
        raise typer.Exit(failed.exit_code)


@_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of pipeline files (for editors and CI checks)."""
    from tdtp_core.pipeline import pipeline_schema

    typer.echo(json.dumps(pipeline_schema(), indent=2))


class _PipelineGroup(TyperGroup):
    """``tdtp pipeline`` as one command of the root app (which lists commands, not
    groups) that carries the sub-app's commands."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, command in typer.main.get_group(_app).commands.items():
            self.add_command(command, name)


def _pipeline() -> None:
    """Run ETL pipelines described in YAML: run, validate, schema."""


def register(app: typer.Typer) -> None:
    # typer types ``cls`` as a command class; a group is a command that has subcommands.
    group = cast("type[TyperCommand]", _PipelineGroup)
    app.command("pipeline", cls=group, no_args_is_help=True)(_pipeline)
