"""The ``tdtp`` command: a group whose commands are imported only when they run.

``tdtp --help`` lists every command from names and one-line helps alone, so it stays
fast however many plugins are installed; nothing heavy (lxml, SQLAlchemy, rich, pandas)
is imported at module level here or in any module the group imports to list commands.

Core commands: ``CORE_COMMANDS`` maps each command to the module that defines it and its
line for ``tdtp --help``. Each such module exposes ``register(app: typer.Typer) -> None``,
which adds its commands with ``app.command("name")(function)``; it is imported, and
``register`` called, when one of its commands runs (a test checks that each module
registers exactly the commands the table names).

Plugin commands come from the plugin host's ``commands`` registry
(``tdtp_register_commands``): a ``typer.Typer`` app, a click command or a plain function,
imported when the command runs. A plugin cannot replace a core command.

Errors: a ``TdtpError`` becomes one line ``tdtp: <kind> error: <message>`` on stderr and
the exit code of its kind; Ctrl-C exits with 130; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from tdtp_core.errors import EXIT_CODES, PluginError, TdtpError


class CoreCommand(NamedTuple):
    module: str
    help: str


_DB = "tdtp_core.cli.db"
_QUERY = "tdtp_core.cli.query"
_PACKETS = "tdtp_core.cli.packets"
_BROKERS = "tdtp_core.cli.brokers"

CORE_COMMANDS: dict[str, CoreCommand] = {
    "export": CoreCommand(_DB, "Export a table (or a query of it) to packet files."),
    "import": CoreCommand(_DB, "Import packets into a database table, atomically."),
    "copy": CoreCommand(_DB, "Copy a table between databases without packet files."),
    "sync": CoreCommand(_DB, "Export the rows changed since the last run."),
    "list": CoreCommand(_DB, "List the tables and views of a database."),
    "inspect": CoreCommand(_DB, "Show a table's columns, types and keys."),
    "demo": CoreCommand(_DB, "Create a demo SQLite database to try tdtp on."),
    "show": CoreCommand(_PACKETS, "Show a packet's header, schema and first rows."),
    "verify": CoreCommand(_PACKETS, "Check packets: structure, checksums, hashes, part sets."),
    "convert": CoreCommand(_PACKETS, "Re-write packets (compress, compact, split) or as CSV."),
    "filter": CoreCommand(_QUERY, "Filter the rows of packets with a TDTQL query."),
    "request": CoreCommand(_QUERY, "Write a request packet carrying a TDTQL query."),
    "answer": CoreCommand(_QUERY, "Answer a request packet from packets or a database."),
    "send": CoreCommand(_BROKERS, "Publish packets to a message broker, one message per part."),
    "listen": CoreCommand(_BROKERS, "Import packet sets from a broker as they arrive."),
    "receive": CoreCommand(_BROKERS, "Write the packets waiting on a broker to files."),
    "dlq": CoreCommand(_BROKERS, "List, show, replay or purge dead letters."),
    "audit": CoreCommand(_BROKERS, "Show the audit log."),
    "diff": CoreCommand("tdtp_core.cli.compare", "Show rows added, removed and changed in B."),
    "merge": CoreCommand("tdtp_core.cli.compare", "Merge tables with the same fields into one."),
    "pipeline": CoreCommand("tdtp_core.cli.pipeline", "Run ETL pipelines described in YAML."),
    "plugins": CoreCommand(
        "tdtp_core.cli.plugins_cmd", "List installed plugins, their components and status."
    ),
}

#: Help rendering: plain click text keeps ``tdtp --help`` from importing rich.
MARKUP_MODE = None

_HELP = """Move database tables as self-checking TDTP packet files.

Examples:

  tdtp export sqlite:///shop.db orders -o orders.tdtp.xml --compress zstd

  tdtp verify orders.tdtp.xml

  tdtp show orders.tdtp.xml --rows 5

  tdtp convert orders.tdtp.xml -o orders.csv
"""

_EPILOG = "Exit codes: " + ", ".join(
    f"{code} {kind}" for kind, code in EXIT_CODES.items()
) + ", 130 interrupted."


class _LazyCommand(TyperCommand):
    """Stands for a command in ``--help``; the real one is imported when it runs."""

    def __init__(self, name: str, help: str, load: Callable[[], Any]) -> None:
        super().__init__(name, help=help, short_help=help, rich_markup_mode=MARKUP_MODE)
        self._load = load

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        return self._load().make_context(info_name, args, parent=parent, **extra)


class LazyGroup(TyperGroup):
    """The root group: core commands from ``CORE_COMMANDS``, then plugin commands."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*CORE_COMMANDS, *_plugin_commands()]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        core = CORE_COMMANDS.get(cmd_name)
        if core is not None:
            return _LazyCommand(cmd_name, core.help, lambda: _core_command(cmd_name))
        helps = _plugin_commands()
        if cmd_name in helps:
            return _LazyCommand(cmd_name, helps[cmd_name], lambda: _plugin_command(cmd_name))
        return None


@functools.cache
def _core_group(module_name: str) -> TyperGroup:
    module = importlib.import_module(module_name)
    app = typer.Typer(rich_markup_mode=MARKUP_MODE)
    module.register(app)
    return typer.main.get_group(app)


def _core_command(name: str) -> Any:
    module_name = CORE_COMMANDS[name].module
    command = _core_group(module_name).commands.get(name)
    if command is None:
        raise RuntimeError(f"{module_name}.register() did not add the command {name!r}")
    return command


def _plugin_commands() -> dict[str, str]:
    """Plugin command names and helps; a plugin claiming a core name is reported."""
    from tdtp_core.plugins import get_host

    host = get_host()
    helps: dict[str, str] = {}
    for component in host.commands:
        if component.name in CORE_COMMANDS:
            host.report(
                f"command {component.name!r} is registered by both tdtp-core and "
                f"{component.dist}; the core command is used"
            )
        else:
            helps[component.name] = str(component.meta.get("help", ""))
    return dict(sorted(helps.items()))


def _plugin_command(name: str) -> Any:
    from tdtp_core.plugins import get_host

    target = get_host().commands.load(name)
    if isinstance(target, typer.Typer):
        return typer.main.get_command(target)
    if hasattr(target, "make_context"):
        return target
    if callable(target):
        app = typer.Typer(rich_markup_mode=MARKUP_MODE)
        app.command(name)(target)
        return typer.main.get_command(app)
    component = get_host().commands.get(name)
    raise PluginError(f"command {name!r} from {component.dist} is not a command: {target!r}")


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tdtp {version('tdtp-core')}")
        raise typer.Exit()


app = typer.Typer(
    cls=LazyGroup,
    name="tdtp",
    help=_HELP,
    epilog=_EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP_MODE,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True,
                     help="Show the version and exit."),
    ] = False,
) -> None:
    """Options that apply before any command (the group's help is ``_HELP``)."""


def error_line(err: TdtpError) -> str:
    """``tdtp: integrity error: users.tdtp.xml part 2: checksum mismatch``, on one line."""
    label = "error" if err.kind == "error" else f"{err.kind} error"
    return f"tdtp: {label}: " + re.sub(r"\s*\n\s*", " ", str(err))


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run ``tdtp`` and exit with its code."""
    try:
        typer.main.get_command(app).main(args=argv, prog_name="tdtp")
    except TdtpError as err:
        sys.stderr.write(error_line(err) + "\n")
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
