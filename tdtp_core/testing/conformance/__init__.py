"""Conformance suites, one per kind of component: pytest classes a plugin's test
module subclasses in a few lines (see ``sdk-docs/plugin-guide.md``)."""

from tdtp_core.testing.conformance._base import (
    HEAVY_MODULES,
    Conformance,
    heavy_imports,
    requirement_modules,
)
from tdtp_core.testing.conformance.adapter import AdapterConformance
from tdtp_core.testing.conformance.broker import BrokerConformance
from tdtp_core.testing.conformance.codec import CodecConformance
from tdtp_core.testing.conformance.format import FormatConformance
from tdtp_core.testing.conformance.processor import ProcessorConformance

__all__ = [
    "HEAVY_MODULES",
    "AdapterConformance",
    "BrokerConformance",
    "CodecConformance",
    "Conformance",
    "FormatConformance",
    "ProcessorConformance",
    "heavy_imports",
    "requirement_modules",
]
