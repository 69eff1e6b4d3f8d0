"""The normalize processor passes tdtp's processor conformance suite."""

from __future__ import annotations

from typing import Any, ClassVar

from tdtp_core.testing import ProcessorConformance


class TestNormalizeConformance(ProcessorConformance):
    plugin = "tdtp_processor_normalize"
    component = "normalize"
    config: ClassVar[dict[str, Any]] = {"fields": {"txt": "whitespace"}}
