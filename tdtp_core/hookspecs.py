"""The plugin contract: the hooks a tdtp plugin may implement.

A plugin is a module named by an entry point in the ``tdtp`` group. It implements any of
these hooks with ``@hookimpl`` and hands each registry **import strings**, never
classes, so that discovering plugins imports nothing heavy::

    # tdtp_codec_zstd/__init__.py
    from tdtp_core.hookspecs import hookimpl

    @hookimpl
    def tdtp_register_codecs(registry: Registrar) -> None:
        registry.add("zstd", "tdtp_codec_zstd.codec:ZstdCodec")

    # pyproject.toml
    [project.entry-points.tdtp]
    zstd = "tdtp_codec_zstd"

``registry.add(name, target, **meta)``: ``name`` is the component's short name (case is
ignored), ``target`` is ``"package.module:Attribute"``, and ``meta`` carries what core
needs to choose the component without importing it (``schemes``, ``extensions``,
``help``). Core imports ``target`` the first time the component is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar

__all__ = [
    "hookimpl",
    "hookspec",
    "tdtp_register_adapters",
    "tdtp_register_brokers",
    "tdtp_register_codecs",
    "tdtp_register_commands",
    "tdtp_register_formats",
    "tdtp_register_processors",
]

#: Marks the hook specifications below (core's side of the contract).
hookspec = pluggy.HookspecMarker("tdtp")
#: Marks a plugin's hook implementations: ``@hookimpl`` above each ``tdtp_register_*``.
hookimpl = pluggy.HookimplMarker("tdtp")


@hookspec
def tdtp_register_adapters(registry: Registrar) -> None:
    """Register database adapters, chosen by the dialect of a SQLAlchemy URL.

    ``schemes`` lists the URL dialects (the part before ``+``) the adapter serves;
    it defaults to the adapter's name. The target is a class built as ``Cls(url)``
    that satisfies ``tdtp_core.protocols.Adapter``::

        registry.add("postgresql", "tdtp_adapter_postgres.adapter:PostgresAdapter",
                     schemes=("postgresql", "postgres"))
    """


@hookspec
def tdtp_register_brokers(registry: Registrar) -> None:
    """Register message brokers, chosen by URL scheme like adapters (``Cls(url)``)::

        registry.add("rabbitmq", "tdtp_broker_rabbitmq.broker:RabbitBroker",
                     schemes=("amqp", "amqps"))
    """


@hookspec
def tdtp_register_processors(registry: Registrar) -> None:
    """Register stream processors (``tdtp_core.protocols.Processor``) by name::

        registry.add("mask", "tdtp_processor_mask.processor:MaskProcessor")
    """


@hookspec
def tdtp_register_codecs(registry: Registrar) -> None:
    """Register compression codecs by their ``Data@compression`` name (``Cls()``)::

        registry.add("zstd", "tdtp_codec_zstd.codec:ZstdCodec")
    """


@hookspec
def tdtp_register_formats(registry: Registrar) -> None:
    """Register file formats, chosen by file-name extension (``Cls()``).

    ``extensions`` lists the lower-case suffixes the format owns; the longest match
    wins, so ``.tdtp.xml`` can be told from ``.xml``::

        registry.add("xlsx", "tdtp_format_xlsx.workbook:XlsxFormat", extensions=(".xlsx",))
    """


@hookspec
def tdtp_register_commands(registry: Registrar) -> None:
    """Register ``tdtp`` subcommands; ``help`` is shown by ``tdtp --help``.

    The target is a ``typer.Typer`` app, a click command, or a plain function (wrapped
    as a command); it is imported only when the command runs::

        registry.add("stats", "tdtp_command_stats.cli:app", help="Summarise a packet's columns.")
    """
