"""What every conformance suite checks: the plugin registers the component under its
name, and importing the plugin module loads nothing heavy (design §3)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib.metadata import entry_points
from typing import Any, ClassVar, Final

import pytest

from tdtp_core.plugins import ENTRY_POINT_GROUP, PluginHost, canonical_name

#: Packages a plugin's top-level module must not import: each costs tens of milliseconds
#: on every ``tdtp`` start, whether or not the command uses the plugin.
HEAVY_MODULES: Final = frozenset({
    "lxml", "sqlalchemy", "pandas", "openpyxl", "pika", "confluent_kafka", "zstandard",
    "psycopg", "pymysql", "yaml", "rich",
})

_hosts: dict[tuple[str, str], PluginHost] = {}


def heavy_imports(module: str) -> set[str]:
    """The heavy packages a fresh interpreter has loaded after ``import module``."""
    code = (f"import sys, {module}; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return set(out.split()) & HEAVY_MODULES


def _distribution(module: str) -> tuple[str, str]:
    """The installed distribution whose ``tdtp`` entry point names ``module``, so the
    test host reports what ``tdtp plugins`` would; a derived name when not installed."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.value == module and ep.dist is not None:
            return ep.dist.name, ep.dist.version
    return canonical_name(module.split(".")[0]), "0"


class Conformance:
    """Base of the suites. A subclass names ``plugin`` (the module the ``tdtp`` entry
    point names) and ``component`` (the name it registers)."""

    #: The registry the suite checks (``codecs``, ``processors``…); set by each suite.
    kind: ClassVar[str] = ""
    #: The plugin module, as the entry point names it: ``"tdtp_codec_zstd"``.
    plugin: ClassVar[str] = ""
    #: The component's registered name: ``"zstd"``.
    component: ClassVar[str] = ""

    @classmethod
    def plugin_host(cls) -> PluginHost:
        """A strict host holding only this plugin (built once per plugin and kind)."""
        if not cls.plugin or not cls.component:
            pytest.fail(f"{cls.__name__}: set the class attributes plugin = '<module>' "
                        "and component = '<registered name>'", pytrace=False)
        key = (cls.plugin, cls.kind)
        if key not in _hosts:
            dist, version = _distribution(cls.plugin)
            host = PluginHost(autoload=False, strict=True)
            host.register_module(importlib.import_module(cls.plugin), dist_name=dist,
                                 version=version, name=cls.plugin)
            _hosts[key] = host
        return _hosts[key]

    @classmethod
    def component_class(cls) -> Any:
        """The component's class, imported through the registry like core does."""
        return getattr(cls.plugin_host(), cls.kind).load(cls.component)

    def test_plugin_registers_the_component(self) -> None:
        registry = getattr(self.plugin_host(), self.kind)
        assert self.component in registry, (
            f"{self.plugin} registers {registry.names()} as {self.kind}, "
            f"not {self.component!r}")
        assert isinstance(self.component_class(), type)

    def test_plugin_module_imports_nothing_heavy(self) -> None:
        loaded = heavy_imports(self.plugin)
        assert not loaded, (
            f"importing {self.plugin} loads {sorted(loaded)}: import them in the "
            "component's module, which core imports on first use")
