"""The user guide names every command and option of `tdtp` (core and installed plugins),
and every ```bash block of it runs: each page in a fresh directory, its blocks in order,
with this interpreter's `tdtp` first on PATH."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from tdtp_core.cli.main import _LazyCommand, app
from tdtp_core.testing.services import unreachable

GUIDE = Path(__file__).resolve().parents[2] / "sdk-docs" / "user-guide"
PAGES = sorted(p.name for p in GUIDE.glob("*.md"))
_BASH = re.compile(r"```bash\n(.*?)```", re.S)


def _commands(group: Any, ctx: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """``("tdtp dlq show", command)`` for every command under ``group``, depth first."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, _LazyCommand):
            command = command._load()  # the real command, with its options
        words = (*path, name)
        yield " ".join(words), command
        if hasattr(command, "list_commands"):  # a group: dlq, audit, pipeline
            yield from _commands(command, type(ctx)(command, info_name=name, parent=ctx),
                                 words)


def command_tree() -> list[tuple[str, Any]]:
    """``tdtp`` itself and every command, with all installed plugins loaded."""
    root = typer.main.get_command(app)
    ctx = root.make_context("tdtp", ["--help"], resilient_parsing=True)
    return [("tdtp", root), *_commands(root, ctx, ("tdtp",))]


COMMANDS = command_tree()


def option_names(command: Any) -> list[str]:
    """The command's options by their long name (the short one if it has none)."""
    names = []
    for param in command.params:
        if param.param_type_name != "option":
            continue
        spellings = [*param.opts, *param.secondary_opts]
        if "--help" not in spellings:
            names += [o for o in spellings if o.startswith("--")] or spellings[:1]
    return names


def guide_text() -> str:
    return "\n".join((GUIDE / page).read_text() for page in PAGES)


def test_the_tree_has_the_nested_commands() -> None:
    names = [name for name, _ in COMMANDS]
    assert {"tdtp export", "tdtp dlq replay", "tdtp audit show"} <= set(names)
    assert "--set-timeout" in option_names(dict(COMMANDS)["tdtp listen"])


@pytest.mark.parametrize(("name", "command"), COMMANDS[1:], ids=[n for n, _ in COMMANDS[1:]])
def test_command_is_in_the_user_guide(name: str, command: Any) -> None:
    assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", guide_text()), (
        f"sdk-docs/user-guide/ never names `{name}`")


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_options_are_in_the_user_guide(name: str, command: Any) -> None:
    text = guide_text()
    missing = [o for o in option_names(command)
               if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)]
    assert not missing, f"sdk-docs/user-guide/ never names {missing} of `{name}`"


def test_every_command_group_has_a_page() -> None:
    assert PAGES == ["brokers.md", "compare.md", "databases.md", "packets.md",
                     "pipelines.md", "plugins.md", "queries.md"]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_examples_run(page: str, tmp_path: Path) -> None:
    if page == "brokers.md":
        try:
            socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
        except OSError:
            unreachable("the broker examples need RabbitMQ on 127.0.0.1:5672")
    script = "set -euo pipefail\n" + "\n".join(_BASH.findall((GUIDE / page).read_text()))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TDTP_PLUGINS_", "TDTP_CONFIG"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
