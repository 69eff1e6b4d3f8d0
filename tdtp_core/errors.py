"""The tdtp error family.

Every user mistake surfaces as one of these: the CLI prints ``str(error)`` on one line and
exits with ``error.exit_code``. Anything else escaping to the CLI is a bug and keeps its
traceback.
"""

from __future__ import annotations

from typing import Self


class TdtpError(Exception):
    """Base of every error a user can cause. ``where`` names the file, part, row or field."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def at(self, where: str) -> Self:
        """Prefix a location (outermost last), keeping the error's class."""
        self.where = f"{where}: {self.where}" if self.where else where
        return self


class PacketError(TdtpError):
    """A packet is malformed: bad XML, a missing element, a bad escape, a broken part set."""

    exit_code = 3
    kind = "packet"


class IntegrityError(PacketError):
    """A hash or checksum does not match the content it covers."""

    exit_code = 4
    kind = "integrity"


class SchemaError(TdtpError):
    """A schema is invalid, or a value does not fit its field."""

    exit_code = 5
    kind = "schema"


class QueryError(TdtpError):
    """A TDTQL query cannot be parsed or does not fit the schema."""

    exit_code = 6
    kind = "query"


class AdapterError(TdtpError):
    """A database refused, was unreachable, or lacks the table asked for."""

    exit_code = 7
    kind = "adapter"


class BrokerError(TdtpError):
    """A message broker refused or was unreachable."""

    exit_code = 8
    kind = "broker"


class ConfigError(TdtpError):
    """A configuration file, URL or option is wrong."""

    exit_code = 2
    kind = "config"


class PluginNotFound(TdtpError):
    """A component was asked for that no installed plugin provides."""

    exit_code = 9
    kind = "plugin"


class PluginError(TdtpError):
    """A plugin failed to load or two plugins claim one name."""

    exit_code = 9
    kind = "plugin"


EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "error": TdtpError.exit_code,
    "usage/config": ConfigError.exit_code,
    "packet": PacketError.exit_code,
    "integrity": IntegrityError.exit_code,
    "schema": SchemaError.exit_code,
    "query": QueryError.exit_code,
    "adapter": AdapterError.exit_code,
    "broker": BrokerError.exit_code,
    "plugin": PluginNotFound.exit_code,
}
