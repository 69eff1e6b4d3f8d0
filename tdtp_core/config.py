"""``tdtp.yaml``: named connections, so URLs with passwords stay out of shell history.

::

    connections:
      shop: postgresql://app:${SHOP_PASSWORD}@db.example.com/shop
      local: sqlite:///shop.db

``${NAME}`` is replaced by the environment variable (``${NAME:-default}`` when unset);
a variable that is unset and has no default is an error naming it and the file. The
file is ``$TDTP_CONFIG`` if set, else ``./tdtp.yaml``; a missing file means no names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tdtp_core.errors import ConfigError

CONFIG_ENV = "TDTP_CONFIG"
DEFAULT_FILE = "tdtp.yaml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class Config:
    """What ``tdtp.yaml`` holds; ``path`` is None when there was no file."""

    connections: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def interpolate(text: str, env: Mapping[str, str], *, where: str) -> str:
    """Replace ``${VAR}`` / ``${VAR:-default}`` from ``env``."""

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value is None:
            if default is None:
                raise ConfigError(f"environment variable {name} is not set", where=where)
            return default
        return value

    return _VAR.sub(sub, text)


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_FILE)


def load_config(path: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    """Read ``tdtp.yaml`` (or ``path``); a missing default file is an empty config."""
    import yaml

    explicit = path is not None or CONFIG_ENV in os.environ
    file = Path(path) if path is not None else config_path()
    if not file.is_file():
        if explicit:
            raise ConfigError(f"configuration file {file} not found")
        return Config()
    try:
        data: Any = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {str(exc).splitlines()[0]}", where=str(file)) from exc
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping at the top level", where=str(file))
    raw = data.get("connections") or {}
    if not isinstance(raw, dict):
        raise ConfigError("'connections' must map names to URLs", where=str(file))
    environ = os.environ if env is None else env
    connections: dict[str, str] = {}
    for name, url in raw.items():
        if not isinstance(url, str):
            raise ConfigError(f"connection {name!r} must be a URL string", where=str(file))
        connections[str(name)] = interpolate(url, environ, where=f"{file}: connection {name}")
    return Config(connections, file)


def resolve_url(name_or_url: str, config: Config | None = None) -> str:
    """A database URL as given, or the URL of a named connection of ``tdtp.yaml``."""
    if "://" in name_or_url or name_or_url.startswith("sqlite:"):
        return name_or_url
    cfg = config if config is not None else load_config()
    url = cfg.connections.get(name_or_url)
    if url is None:
        known = ", ".join(sorted(cfg.connections)) or "none"
        where = f" in {cfg.path}" if cfg.path else f" ({DEFAULT_FILE} not found)"
        raise ConfigError(
            f"{name_or_url!r} is neither a database URL nor a named connection{where}; "
            f"known names: {known}")
    return url
