"""Every plugin in plugins/ keeps heavy imports (the known heavy packages and its own
runtime dependencies) out of the module its entry point names, so `tdtp --help` stays
fast with all of them installed (design §3)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tdtp_core.testing import HEAVY_MODULES, requirement_modules

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def entry_points() -> list[tuple[Path, str, list[str]]]:
    """(plugin directory, entry point module, runtime requirements) of each plugin."""
    found = []
    for pyproject in sorted(PLUGINS.glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        for module in project.get("entry-points", {}).get("tdtp", {}).values():
            found.append((pyproject.parent, module, project.get("dependencies", [])))
    return found


def test_the_brief_list_is_checked() -> None:
    assert {"lxml", "sqlalchemy", "pandas", "openpyxl", "pika", "confluent_kafka",
            "zstandard", "psycopg", "pymysql", "pymssql", "phonenumbers", "yaml",
            "rich"} <= HEAVY_MODULES


def test_every_plugin_dependency_is_found_as_a_module() -> None:
    for plugin, _, requirements in entry_points():
        for requirement in requirements:
            if not requirement.startswith("tdtp-core"):
                assert requirement_modules([requirement]), (
                    f"{plugin.name}: no installed module for {requirement!r}")


@pytest.mark.parametrize(("plugin", "module", "requirements"), entry_points(),
                         ids=[m for _, m, _ in entry_points()])
def test_plugin_module_imports_nothing_heavy(plugin: Path, module: str,
                                             requirements: list[str]) -> None:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(plugin), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    heavy = HEAVY_MODULES | requirement_modules(requirements)
    loaded = {name.split(".")[0] for name in out.split()} & heavy
    assert not loaded, f"{plugin.name}: importing {module} loads {sorted(loaded)}"
