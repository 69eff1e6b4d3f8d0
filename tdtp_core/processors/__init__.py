"""Stream processors: masking, normalising, validating and any plugin-provided step.

Commands wire them in with two calls (DECISIONS 14: every output path, exactly once, in
the order the user gave)::

    chain = build_chain(mask=["email:email"], validate=["rules.yaml"])
    stream = apply(stream, chain)   # lazy; rows are processed as the sink pulls them

``tdtp_core.cli.processor_options`` has the matching ``--mask``, ``--normalize``,
``--validate`` and ``--process`` options.
"""

from __future__ import annotations

from tdtp_core.processors.base import (
    BaseProcessor,
    ColumnFn,
    ColumnProcessor,
    ProcessorConfigError,
    Step,
    cell_texts,
    field_rules_schema,
)
from tdtp_core.processors.chain import ProcessorChain
from tdtp_core.processors.specs import (
    DEFAULT_ORDER,
    KINDS,
    ProcessorSpec,
    build_chain,
    parse_option,
)
from tdtp_core.stream import TableStream

__all__ = [
    "DEFAULT_ORDER",
    "KINDS",
    "BaseProcessor",
    "ColumnFn",
    "ColumnProcessor",
    "ProcessorChain",
    "ProcessorConfigError",
    "ProcessorSpec",
    "Step",
    "apply",
    "build_chain",
    "cell_texts",
    "field_rules_schema",
    "parse_option",
]


def apply(stream: TableStream, chain: ProcessorChain | None) -> TableStream:
    """``stream`` processed by ``chain`` (unchanged when there is none)."""
    return stream if chain is None else chain.apply(stream)
