"""``tdtp plugins``: what is installed, what each plugin provides, and what failed."""

from __future__ import annotations

import json

import typer

from tdtp_core.cli import options
from tdtp_core.plugins import get_host


def plugins(json_out: options.Json = False) -> None:
    """List each plugin distribution, its version, components per kind and status.

    A plugin that failed to load is listed with its error and disabled; the others keep
    working. TDTP_PLUGINS_ALLOW / TDTP_PLUGINS_DENY (comma-separated distribution or
    entry-point names) choose which plugins load; TDTP_PLUGINS_STRICT=1 makes any plugin
    failure an error.

    Examples:

      tdtp plugins

      tdtp plugins --json
    """
    infos = get_host().plugins
    if json_out:
        typer.echo(json.dumps([p.as_dict() for p in infos], indent=2))
        return
    for info in infos:
        typer.echo(f"{info.dist} {info.version} [{info.name}]: {info.status}")
        if info.error:
            typer.echo(f"    error: {info.error}")
        for kind, names in info.components.items():
            typer.echo(f"    {kind}: {', '.join(sorted(names))}")


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)
