"""Broker URLs: parsing, deriving related URLs, and keeping passwords out of messages.

``amqp://user:password@host:5672/%2F?queue=orders`` and
``kafka://host:9092/orders?group=importers``: the scheme picks the plugin, the query holds
the plugin's options. Every text a broker shows the user goes through
:meth:`BrokerAddress.redact`, which masks the URL's password wherever it appears.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from tdtp_core.errors import ConfigError
from tdtp_core.sql.urls import MASK, mask_url


@dataclass(frozen=True)
class BrokerAddress:
    """A parsed broker URL; ``path`` is unquoted and without its leading ``/``."""

    url: str
    scheme: str
    hosts: tuple[tuple[str, int | None], ...]
    username: str | None
    password: str | None
    path: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def display(self) -> str:
        """The URL with its password masked, for messages and the audit log."""
        return mask_url(self.url)

    @property
    def host(self) -> str:
        return self.hosts[0][0]

    @property
    def port(self) -> int | None:
        return self.hosts[0][1]

    def redact(self, text: str) -> str:
        """``text`` with every spelling of the password masked (for driver errors)."""
        text = mask_url(text)
        if self.password:
            for spelling in {self.password, quote(self.password, safe="")}:
                text = text.replace(spelling, MASK)
        return text

    def with_changes(self, *, path: str | None = None, **params: str | None) -> str:
        """This URL with another path and/or query options (``None`` removes one)."""
        parts = urlsplit(self.url)
        query = dict(self.params)
        for key, value in params.items():
            if value is None:
                query.pop(key, None)
            else:
                query[key] = value
        new_path = parts.path if path is None else "/" + quote(path, safe="")
        return urlunsplit((parts.scheme, parts.netloc, new_path, urlencode(query), ""))


def parse_broker_url(url: str, *, known: Iterable[str] = (), passthrough: bool = False
                     ) -> BrokerAddress:
    """Parse ``url``; a query option not in ``known`` is a ``ConfigError`` unless
    ``passthrough`` (dotted client settings such as ``session.timeout.ms``) allows it."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ConfigError(f"not a broker URL (expected scheme://host…): {mask_url(url)!r}")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    hosts: list[tuple[str, int | None]] = []
    for item in hostlist.split(","):
        host, _, port = item.strip().rpartition(":") if ":" in item else (item, "", "")
        if not host:
            raise ConfigError(f"no host in broker URL {mask_url(url)!r}")
        try:
            hosts.append((host.strip("[]"), int(port) if port else None))
        except ValueError:
            raise ConfigError(f"bad port {port!r} in broker URL {mask_url(url)!r}") from None
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    allowed = set(known)
    unknown = [k for k in params if k not in allowed and not (passthrough and "." in k)]
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(sorted(unknown))} in broker URL "
            f"{mask_url(url)!r} (known: {', '.join(sorted(allowed)) or 'none'})")
    return BrokerAddress(
        url=url,
        scheme=parts.scheme.lower(),
        hosts=tuple(hosts),
        username=unquote(user) if userinfo else None,
        password=unquote(password) if userinfo and password else None,
        path=unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path),
        params=params,
    )


def int_param(address: BrokerAddress, name: str, default: int, *, minimum: int = 0) -> int:
    """An integer query option, checked."""
    raw = address.params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"option {name}={raw!r} of {address.display} must be a whole number"
                          ) from None
    if value < minimum:
        raise ConfigError(f"option {name} of {address.display} must be at least {minimum}")
    return value
