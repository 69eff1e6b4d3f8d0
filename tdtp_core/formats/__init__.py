"""File formats that ship with core (CSV); plugins add more (XLSX)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tdtp_core.errors import ConfigError


def check_options(format_name: str, options: Mapping[str, Any], accepted: Iterable[str]) -> None:
    """Reject options a format does not understand, naming them (``--compress`` on CSV)."""
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        raise ConfigError(f"{format_name} files do not support the option(s) {names}")
