"""tdtp's pytest plugin (entry point ``pytest11: tdtp``): fixtures for plugin tests.

Installed with tdtp-core, so any test suite can use them without a ``conftest.py``.
The names carry a ``tdtp_`` prefix where a project's own fixture could plausibly use
the bare word. Imports stay inside the fixtures: this module loads in every pytest run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tdtp_core.plugins import PluginHost, PluginInfo
    from tdtp_core.testing.data import TypeMatrix


@pytest.fixture
def tdtp_host() -> PluginHost:
    """An empty, strict plugin host (no entry points loaded): add plugins with
    ``register_plugin`` and any problem in them raises ``PluginError``."""
    from tdtp_core.plugins import PluginHost

    return PluginHost(autoload=False, strict=True)


@pytest.fixture
def register_plugin(tdtp_host: PluginHost) -> Callable[..., PluginInfo]:
    """``register_plugin(module_or_name, dist_name=None, version="0")`` registers a
    plugin module in ``tdtp_host`` for this test, as if its distribution were installed
    (the distribution name defaults to the module's: ``tdtp_codec_x`` → ``tdtp-codec-x``)."""
    import importlib

    from tdtp_core.plugins import canonical_name

    def register(module: ModuleType | str, dist_name: str | None = None,
                 version: str = "0") -> PluginInfo:
        obj = importlib.import_module(module) if isinstance(module, str) else module
        name = obj.__name__
        return tdtp_host.register_module(
            obj, dist_name=dist_name or canonical_name(name.split(".")[0]),
            version=version, name=name)

    return register


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite file database in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def tdtp_stream() -> Callable[..., Any]:
    """The :func:`tdtp_core.testing.make_stream` factory:
    ``tdtp_stream([(1, "Ada")])`` or ``tdtp_stream(rows, schema, table="people")``."""
    from tdtp_core.testing.data import make_stream

    return make_stream


@pytest.fixture
def tdtp_packet(tmp_path: Path) -> Callable[..., list[Path]]:
    """:func:`tdtp_core.testing.make_packet` writing into this test's ``tmp_path``:
    ``tdtp_packet()`` writes the type matrix, ``tdtp_packet(rows, compress="zstd")``."""
    from tdtp_core.testing.data import make_packet

    return functools.partial(make_packet, tmp_path)


@pytest.fixture
def tdtp_type_matrix() -> TypeMatrix:
    """Every TDTP type at its extremes, plus a row of NULLs: ``(schema, rows)``."""
    from tdtp_core.testing.data import TYPE_MATRIX_ROWS, TYPE_MATRIX_SCHEMA, TypeMatrix

    return TypeMatrix(TYPE_MATRIX_SCHEMA, list(TYPE_MATRIX_ROWS))
