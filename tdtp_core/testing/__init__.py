"""The testing kit for plugin authors.

* Conformance suites, one per kind: ``AdapterConformance``, ``BrokerConformance``,
  ``CodecConformance``, ``FormatConformance``, ``ProcessorConformance``. A plugin's test
  module subclasses one and names its plugin module and component::

      from tdtp_core.testing import CodecConformance

      class TestZlib(CodecConformance):
          plugin = "tdtp_codec_zlib"
          component = "zlib"

* Test data: the type matrix (``TYPE_MATRIX_SCHEMA``, ``TYPE_MATRIX_ROWS``) and the
  factories ``make_stream(rows, schema=None)`` and ``make_packet(tmp_path, …)``.
* A pytest plugin (``tdtp_core.testing.pytest_plugin``, active wherever tdtp-core is
  installed) with the fixtures ``tdtp_host``, ``register_plugin``, ``sqlite_url``,
  ``tdtp_stream``, ``tdtp_packet`` and ``tdtp_type_matrix``.
* Fixtures for real servers: :mod:`tdtp_core.testing.services` (databases) and
  :mod:`tdtp_core.testing.brokers` (RabbitMQ, Kafka).

Names load on first use, so the pytest plugin (which imports this package) costs
nothing in test runs that do not use them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tdtp_core.testing.conformance import (
        HEAVY_MODULES,
        AdapterConformance,
        BrokerConformance,
        CodecConformance,
        Conformance,
        FormatConformance,
        ProcessorConformance,
        heavy_imports,
        requirement_modules,
    )
    from tdtp_core.testing.data import (
        TYPE_MATRIX_ROWS,
        TYPE_MATRIX_SCHEMA,
        TypeMatrix,
        infer_schema,
        make_packet,
        make_stream,
    )

_LAZY = {
    **dict.fromkeys((
        "HEAVY_MODULES", "AdapterConformance", "BrokerConformance", "CodecConformance",
        "Conformance", "FormatConformance", "ProcessorConformance", "heavy_imports",
        "requirement_modules",
    ), "tdtp_core.testing.conformance"),
    **dict.fromkeys((
        "TYPE_MATRIX_ROWS", "TYPE_MATRIX_SCHEMA", "TypeMatrix", "infer_schema",
        "make_packet", "make_stream",
    ), "tdtp_core.testing.data"),
}

__all__ = [
    "HEAVY_MODULES",
    "TYPE_MATRIX_ROWS",
    "TYPE_MATRIX_SCHEMA",
    "AdapterConformance",
    "BrokerConformance",
    "CodecConformance",
    "Conformance",
    "FormatConformance",
    "ProcessorConformance",
    "TypeMatrix",
    "heavy_imports",
    "infer_schema",
    "make_packet",
    "make_stream",
    "requirement_modules",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tdtp_core.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
