"""Fake plugin distributions for plugin-host and CLI tests.

Each fake is a ``*.dist-info`` directory (METADATA + entry_points.txt) and a module in a
temporary directory put on ``sys.path``, so ``importlib.metadata`` discovers it exactly
like an installed wheel.
"""

from __future__ import annotations

import itertools
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tdtp_core.plugins import get_host

_serial = itertools.count()

#: A working plugin: codec ``NAME`` (reverses bytes), its class in the same module.
CODEC_PLUGIN = """
from tdtp_core.hookspecs import hookimpl

@hookimpl
def tdtp_register_codecs(registry):
    registry.add("NAME", "MODULE:Reverse")

class Reverse:
    name = "NAME"
    def compress(self, data, *, level=3):
        return data[::-1]
    def decompress(self, data, *, max_output):
        return data[::-1]
"""


class FakeDists:
    """Creates fake distributions under one directory that is on ``sys.path``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def module(self, source: str, *, prefix: str = "tdtp_fake") -> str:
        """Write a module (``MODULE`` in ``source`` is replaced by its name); return it."""
        name = f"{prefix}_{next(_serial)}"
        (self.root / f"{name}.py").write_text(
            textwrap.dedent(source).replace("MODULE", name), encoding="utf-8"
        )
        self.modules.append(name)
        return name

    def dist(
        self,
        dist: str,
        source: str,
        *,
        entry_point: str | None = None,
        version: str = "1.0",
        name: str = "rev",
    ) -> str:
        """Install ``dist`` whose plugin module is ``source`` (``NAME`` -> ``name``)."""
        module = self.module(source.replace("NAME", name))
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[tdtp]\n{entry_point or dist.rsplit('-', 1)[-1]} = {module}\n", encoding="utf-8"
        )
        return module

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should see these distributions."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TDTP_PLUGINS_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.root),
                                                          env.get("PYTHONPATH")]))
        return env


def clean_plugin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Body of an autouse fixture: no plugin environment variables, a fresh global host."""
    for variable in ("TDTP_PLUGINS_STRICT", "TDTP_PLUGINS_ALLOW", "TDTP_PLUGINS_DENY"):
        monkeypatch.delenv(variable, raising=False)
    get_host.cache_clear()
    yield
    get_host.cache_clear()


def fake_dists_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDists]:
    """Body of the ``fake_dists`` fixture: a directory on ``sys.path`` for fake dists."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    fakes = FakeDists(root)
    yield fakes
    for module in fakes.modules:
        sys.modules.pop(module, None)
