"""The plugin host: discovery, isolation, registries and provenance.

Every module named by an entry point in the ``tdtp`` group is a plugin, core's own
``builtin`` included. Plugins fill one registry per kind (adapters, brokers, processors,
codecs, formats, commands) with import strings (see ``tdtp_core.hookspecs``); a
component's code is imported the first time it is used.

Isolation: a plugin that fails to import, whose hook raises, or that registers something
malformed is disabled, reported once on stderr and listed by ``tdtp plugins``; everything
else keeps working. Two plugins claiming one name make that name unusable (using it
raises ``PluginError`` naming both distributions) without disabling anything else.

Environment:

``TDTP_PLUGINS_STRICT=1``
    Raise ``PluginError`` at the first plugin failure or name clash instead (CI, tests).
``TDTP_PLUGINS_ALLOW=a,b``
    Load only these plugins (distribution names such as ``tdtp-codec-zstd`` or
    entry-point names such as ``zstd``; ``-``, ``_`` and ``.`` are equivalent). Core's
    own ``builtin`` plugin is always allowed.
``TDTP_PLUGINS_DENY=a,b``
    Never load these (deny wins over allow; denying ``builtin`` removes CSV and the
    packet format). A denied plugin is not even imported.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import PurePath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, cast

import pluggy

from tdtp_core import hookspecs
from tdtp_core.errors import ConfigError, PluginError, PluginNotFound

if TYPE_CHECKING:
    from tdtp_core.protocols import Adapter, Broker, Codec, Format

ENTRY_POINT_GROUP: Final = "tdtp"
STRICT_ENV: Final = "TDTP_PLUGINS_STRICT"
ALLOW_ENV: Final = "TDTP_PLUGINS_ALLOW"
DENY_ENV: Final = "TDTP_PLUGINS_DENY"
CORE_DISTRIBUTION: Final = "tdtp-core"

KINDS: Final = ("adapters", "brokers", "processors", "codecs", "formats", "commands")

#: How a missing component is named to the user.
NOUNS: Final = {
    "adapters": "database",
    "brokers": "broker",
    "processors": "processor",
    "codecs": "compression",
    "formats": "file format",
    "commands": "command",
}

#: Components core knows about, and the distribution that provides each.
KNOWN_PLUGINS: Final = {
    ("codecs", "zstd"): "tdtp-codec-zstd",
    ("adapters", "sqlite"): "tdtp-adapter-sqlite",
    ("adapters", "postgresql"): "tdtp-adapter-postgres",
    ("adapters", "postgres"): "tdtp-adapter-postgres",
    ("adapters", "mysql"): "tdtp-adapter-mysql",
    ("adapters", "mariadb"): "tdtp-adapter-mysql",
    ("adapters", "mssql"): "tdtp-adapter-mssql",
    ("brokers", "amqp"): "tdtp-broker-rabbitmq",
    ("brokers", "amqps"): "tdtp-broker-rabbitmq",
    ("brokers", "kafka"): "tdtp-broker-kafka",
    ("formats", "xlsx"): "tdtp-format-xlsx",
    ("processors", "mask"): "tdtp-processor-mask",
    ("processors", "normalize"): "tdtp-processor-normalize",
    ("processors", "validate"): "tdtp-processor-validate",
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_TARGET = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")
_TRUE = frozenset({"1", "true", "yes", "on"})


def canonical_name(name: str) -> str:
    """PEP 503 normalisation, so ``tdtp_codec_zstd`` matches ``tdtp-codec-zstd``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _env_list(variable: str) -> frozenset[str]:
    raw = os.environ.get(variable, "")
    return frozenset(canonical_name(p.strip()) for p in raw.split(",") if p.strip())


def resolve(target: str) -> Any:
    """Import ``"package.module:Attr.sub"`` (or a bare module) and return the object."""
    module_name, _, attrs = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for attr in attrs.split(".") if attrs else ():
        obj = getattr(obj, attr)
    return obj


@dataclass
class PluginInfo:
    """One plugin (an entry point) and what became of it: what ``tdtp plugins`` lists."""

    name: str
    dist: str
    version: str
    #: ``ok``, ``failed`` (disabled), ``denied`` (by the allow/deny lists) or
    #: ``conflict`` (loaded, but a name it claims is claimed by another plugin too).
    status: str = "ok"
    error: str | None = None
    components: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "distribution": self.dist,
            "version": self.version,
            "entry_point": self.name,
            "status": self.status,
            "error": self.error,
            "components": {k: sorted(v) for k, v in self.components.items()},
        }


@dataclass(frozen=True)
class Component:
    """A registered component: where its code lives and which plugin provided it."""

    kind: str
    name: str
    target: str
    plugin: PluginInfo
    meta: Mapping[str, Any]

    @property
    def dist(self) -> str:
        return self.plugin.dist

    @property
    def version(self) -> str:
        return self.plugin.version

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(s.lower() for s in self.meta.get("schemes", (self.name,)))

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(e.lower() for e in self.meta.get("extensions", ()))


class Registrar:
    """What a hook receives as ``registry``: records components for one plugin."""

    def __init__(self, kind: str, plugin: PluginInfo, sink: list[Component]) -> None:
        self.kind = kind
        self._plugin = plugin
        self._sink = sink

    def add(self, name: str, target: str, **meta: Any) -> None:
        """Register ``name`` as the object at import string ``target``."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise PluginError(f"invalid {self.kind[:-1]} name {name!r}")
        if not isinstance(target, str) or not _TARGET.match(target):
            raise PluginError(
                f"{self.kind[:-1]} {name!r}: target must be 'module:attribute', got {target!r}"
            )
        self._sink.append(
            Component(self.kind, name.lower(), target, self._plugin, MappingProxyType(meta))
        )


class Registry:
    """The components of one kind, looked up by name and imported on first use."""

    def __init__(self, kind: str, host: PluginHost) -> None:
        self.kind = kind
        self._host = host
        self._entries: dict[str, Component] = {}
        self._conflicts: dict[str, str] = {}
        self._loaded: dict[str, Any] = {}
        self._instances: dict[str, Any] = {}

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __iter__(self) -> Iterator[Component]:
        return iter(self._entries.values())

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> Component:
        """The component registered as ``name``; ``PluginNotFound`` names what to install."""
        key = name.lower()
        if key in self._conflicts:
            raise PluginError(self._conflicts[key])
        try:
            return self._entries[key]
        except KeyError:
            raise self._host.not_found(self.kind, key) from None

    def load(self, name: str) -> Any:
        """Import the component's target (once) and return it."""
        component = self.get(name)
        key = component.name
        if key not in self._loaded:
            try:
                self._loaded[key] = resolve(component.target)
            except Exception as exc:
                raise PluginError(
                    f"{NOUNS[self.kind]} {key!r} from {component.dist} {component.version} "
                    f"cannot be imported ({component.target}): {type(exc).__name__}: {exc}"
                ) from exc
        return self._loaded[key]

    def instance(self, name: str) -> Any:
        """A shared instance ``Cls()`` of a stateless component (codec, format)."""
        key = self.get(name).name
        if key not in self._instances:
            self._instances[key] = self.load(key)()
        return self._instances[key]

    def _add(self, component: Component) -> str | None:
        """Store a component; if its name was taken, make the name unusable and say why."""
        existing = self._entries.get(component.name)
        if existing is None:
            self._entries[component.name] = component
            return None
        noun = NOUNS[self.kind]
        if existing.dist == component.dist:
            message = f"{noun} {component.name!r} is registered twice by {component.dist}"
        else:
            message = (
                f"{noun} {component.name!r} is registered by both {existing.dist} "
                f"and {component.dist}"
            )
        self._conflicts[component.name] = message
        for plugin in (existing.plugin, component.plugin):
            plugin.status, plugin.error = "conflict", message
        return message


class PluginHost:
    """Typed access to every plugin component; core never calls ``pm.hook`` itself.

    ``PluginHost()`` discovers the installed plugins; ``PluginHost(autoload=False)``
    starts empty, for tests that add modules with :meth:`register_module`. ``strict``,
    ``allow`` and ``deny`` default to the environment variables in the module docstring.
    """

    def __init__(
        self,
        *,
        autoload: bool = True,
        strict: bool | None = None,
        allow: Iterable[str] | None = None,
        deny: Iterable[str] | None = None,
    ) -> None:
        self.strict = (
            os.environ.get(STRICT_ENV, "").strip().lower() in _TRUE if strict is None else strict
        )
        self._allow = _env_list(ALLOW_ENV) if allow is None else frozenset(
            canonical_name(a) for a in allow
        )
        self._deny = _env_list(DENY_ENV) if deny is None else frozenset(
            canonical_name(d) for d in deny
        )
        self.plugins: list[PluginInfo] = []
        self._registries = {kind: Registry(kind, self) for kind in KINDS}
        self._pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self._pm.add_hookspecs(hookspecs)
        self._warned: set[str] = set()
        if autoload:
            self.load_entry_points()

    # ------------------------------------------------------------------ registries

    @property
    def adapters(self) -> Registry:
        return self._registries["adapters"]

    @property
    def brokers(self) -> Registry:
        return self._registries["brokers"]

    @property
    def processors(self) -> Registry:
        return self._registries["processors"]

    @property
    def codecs(self) -> Registry:
        return self._registries["codecs"]

    @property
    def formats(self) -> Registry:
        return self._registries["formats"]

    @property
    def commands(self) -> Registry:
        return self._registries["commands"]

    # ------------------------------------------------------------------- discovery

    def load_entry_points(self) -> None:
        """Load every plugin of the ``tdtp`` entry-point group, each on its own."""
        found = [
            (ep, PluginInfo(
                name=ep.name,
                dist=ep.dist.name if ep.dist is not None else "unknown",
                version=ep.dist.version if ep.dist is not None else "unknown",
            ))
            for ep in entry_points(group=ENTRY_POINT_GROUP)
        ]
        found.sort(key=lambda item: (
            canonical_name(item[1].dist) != CORE_DISTRIBUTION, item[1].dist, item[1].name
        ))
        for ep, info in found:
            if not self._admit(info):
                continue
            try:
                module = ep.load()
            except Exception as exc:
                self._fail(info, f"cannot import {ep.value}: {type(exc).__name__}: {exc}", exc)
                continue
            self._register(module, info)

    def register_module(
        self, module: object, *, dist_name: str, version: str = "0", name: str | None = None
    ) -> PluginInfo:
        """Register a plugin object directly, as if ``dist_name`` had installed it."""
        info = PluginInfo(name=name or dist_name, dist=dist_name, version=version)
        if self._admit(info):
            self._register(module, info)
        return info

    def _admit(self, info: PluginInfo) -> bool:
        self.plugins.append(info)
        names = {canonical_name(info.dist), canonical_name(info.name)}
        core = canonical_name(info.dist) == CORE_DISTRIBUTION
        if names & self._deny or (self._allow and not core and not names & self._allow):
            info.status = "denied"
            info.error = f"disabled by {DENY_ENV if names & self._deny else ALLOW_ENV}"
            return False
        return True

    def _register(self, module: object, info: PluginInfo) -> None:
        key = f"{info.dist}:{info.name}"
        try:
            self._pm.register(module, name=key)
        except Exception as exc:
            self._fail(info, f"{type(exc).__name__}: {exc}", exc)
            return
        unknown = sorted(
            name for name, caller in vars(self._pm.hook).items()
            if not caller.has_spec() and any(i.plugin_name == key for i in caller.get_hookimpls())
        )
        if unknown:
            self._pm.unregister(name=key)
            error = PluginError(f"unknown hook(s) {', '.join(unknown)}")
            self._fail(info, str(error), error)
            return
        staged: list[Component] = []
        for kind in KINDS:
            hook_name = f"tdtp_register_{kind}"
            for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                if impl.plugin_name != key:
                    continue
                try:
                    impl.function(*(Registrar(kind, info, staged) for _ in impl.argnames))
                except Exception as exc:
                    self._pm.unregister(name=key)
                    self._fail(info, f"{hook_name} raised {type(exc).__name__}: {exc}", exc)
                    return
        for component in staged:
            info.components.setdefault(component.kind, []).append(component.name)
            clash = self._registries[component.kind]._add(component)
            if clash is not None:
                self.report(clash)

    def _fail(self, info: PluginInfo, detail: str, cause: BaseException) -> None:
        info.status, info.error = "failed", detail
        message = f"plugin {info.name!r} ({info.dist} {info.version}) failed: {detail}"
        try:
            self.report(f"{message}; it is disabled (see 'tdtp plugins')")
        except PluginError as exc:
            raise exc from cause

    def report(self, message: str) -> None:
        """A plugin problem: ``PluginError`` in strict mode, else one warning on stderr."""
        if self.strict:
            raise PluginError(message)
        if message not in self._warned:
            self._warned.add(message)
            sys.stderr.write(f"tdtp: warning: {message}\n")

    # --------------------------------------------------------------------- lookups

    def not_found(self, kind: str, name: str) -> PluginNotFound:
        """The error for a missing component, naming the package that provides it."""
        noun = NOUNS[kind]
        package = KNOWN_PLUGINS.get((kind, name))
        if package is None:
            available = ", ".join(self._registries[kind].names()) or "none"
            return PluginNotFound(f"no plugin provides {noun} {name!r} (available: {available})")
        installed = next(
            (p for p in self.plugins if canonical_name(p.dist) == package), None
        )
        if installed is not None and installed.status == "denied":
            return PluginNotFound(
                f"{noun} {name!r} needs the plugin {package}, which is {installed.error}"
            )
        if installed is not None and installed.status == "failed":
            return PluginNotFound(
                f"{noun} {name!r} needs the plugin {package}, which failed to load: "
                f"{installed.error}"
            )
        return PluginNotFound(
            f"{noun} {name!r} needs the plugin {package}: pip install {package}"
        )

    def codec(self, name: str) -> Codec:
        """The codec for a ``Data@compression`` value such as ``zstd``."""
        return cast("Codec", self.codecs.instance(name))

    def format(self, name: str) -> Format:
        return cast("Format", self.formats.instance(name))

    def format_for_path(self, path: str | PurePath) -> Format:
        """The file format owning the longest extension of ``path``'s name."""
        filename = PurePath(path).name.lower()
        matches = [
            (len(ext), c.name) for c in self.formats for ext in c.extensions
            if filename.endswith(ext)
        ]
        if matches:
            return self.format(max(matches)[1])
        suffix = PurePath(filename).suffix
        if not suffix:
            known = ", ".join(sorted({e for c in self.formats for e in c.extensions}))
            raise ConfigError(f"cannot tell the file format of {str(path)!r}; use one of {known}")
        raise self.not_found("formats", suffix[1:])

    def adapter_for_url(self, url: str) -> Adapter:
        """An adapter ``Cls(url)`` for a SQLAlchemy URL, chosen by its dialect."""
        return cast("Adapter", self._for_url("adapters", url)(url))

    def broker_for_url(self, url: str) -> Broker:
        """A broker ``Cls(url)`` for a broker URL (``amqp://…``, ``kafka://…``)."""
        return cast("Broker", self._for_url("brokers", url)(url))

    def _for_url(self, kind: str, url: str) -> Any:
        scheme, sep, _ = url.partition("://")
        if not sep or not scheme:
            raise ConfigError(f"not a {NOUNS[kind]} URL (expected scheme://…): {_mask(url)!r}")
        dialect = scheme.split("+", 1)[0].lower()
        registry = self._registries[kind]
        matches = [c for c in registry if dialect in c.schemes]
        if len(matches) > 1:
            raise PluginError(
                f"{NOUNS[kind]} URL scheme {dialect!r} is claimed by both "
                f"{matches[0].dist} ({matches[0].name}) and {matches[1].dist} ({matches[1].name})"
            )
        if not matches:
            raise self.not_found(kind, dialect)
        return registry.load(matches[0].name)


def _mask(url: str) -> str:
    """Hide a password (``user:secret@host``) in a URL shown in an error (design §4)."""
    return re.sub(r":[^:@/]*@", ":***@", url)


@functools.cache
def get_host() -> PluginHost:
    """The process-wide host, discovered on first use (``get_host.cache_clear()`` resets)."""
    return PluginHost()
