"""What every conformance suite checks: the plugin registers the component under its
name, and importing the plugin module loads nothing heavy (design §3)."""

from __future__ import annotations

import functools
import importlib
import re
import subprocess
import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, entry_points, packages_distributions, requires
from typing import Any, ClassVar, Final

import pytest

from tdtp_core.plugins import CORE_DISTRIBUTION, ENTRY_POINT_GROUP, PluginHost, canonical_name

#: Packages a plugin's top-level module must not import: each costs tens of milliseconds
#: on every ``tdtp`` start, whether or not the command uses the plugin.
#: A plugin's own runtime dependencies count as heavy too (:func:`requirement_modules`).
HEAVY_MODULES: Final = frozenset({
    "lxml", "sqlalchemy", "pandas", "openpyxl", "pika", "confluent_kafka", "zstandard",
    "psycopg", "pymysql", "pymssql", "phonenumbers", "yaml", "rich",
})
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)[^;]*(?:;(.*))?$")
_EXTRA = re.compile(r"\bextra\b")

_hosts: dict[tuple[str, str], PluginHost] = {}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _modules_by_distribution() -> dict[str, frozenset[str]]:
    """Installed distribution (canonical name) → the top-level modules it provides."""
    found: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            found.setdefault(_canonical(dist), set()).add(module)
    return {dist: frozenset(modules) for dist, modules in found.items()}


def _modules_of(requirements: Iterable[str]) -> set[str]:
    """Top-level modules of the installed distributions named by runtime requirements."""
    installed = _modules_by_distribution()
    modules: set[str] = set()
    for text in requirements:
        match = _REQUIREMENT.match(text)
        if match is not None and not (match[2] and _EXTRA.search(match[2])):
            modules |= installed.get(_canonical(match[1]), frozenset())
    return modules


@functools.cache
def _core_modules() -> frozenset[str]:
    """tdtp-core and the modules of its own requirements."""
    try:
        return frozenset(_modules_of([CORE_DISTRIBUTION, *(requires(CORE_DISTRIBUTION) or ())]))
    except PackageNotFoundError:  # a source checkout on sys.path
        return frozenset({"tdtp_core"})


def requirement_modules(requirements: Iterable[str]) -> frozenset[str]:
    """The top-level modules of the installed distributions that ``requirements`` name
    (``"psycopg[binary]>=3.1"`` → ``psycopg``): a plugin's runtime dependencies, which
    its plugin module has no reason to import. Requirements of an extra are left out,
    and so are tdtp-core and what it requires (core loads those itself; the heavy ones
    among them are in ``HEAVY_MODULES``)."""
    return frozenset(_modules_of(requirements) - _core_modules())


def heavy_imports(module: str, also: Iterable[str] = ()) -> set[str]:
    """The heavy packages (``HEAVY_MODULES`` and ``also``) a fresh interpreter has
    loaded after ``import module``."""
    code = (f"import sys, {module}; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return set(out.split()) & (HEAVY_MODULES | set(also))


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
        dist, _ = _distribution(self.plugin)
        try:
            dependencies = requirement_modules(requires(dist) or ())
        except PackageNotFoundError:  # registered from a path, not installed
            dependencies = frozenset()
        loaded = heavy_imports(self.plugin, dependencies)
        assert not loaded, (
            f"importing {self.plugin} loads {sorted(loaded)}: import them in the "
            "component's module, which core imports on first use")
