"""The mask processor passes tdtp's processor conformance suite."""

from __future__ import annotations

from typing import Any, ClassVar

from tdtp_core.testing import ProcessorConformance


class TestMaskConformance(ProcessorConformance):
    plugin = "tdtp_processor_mask"
    component = "mask"
    config: ClassVar[dict[str, Any]] = {"fields": {"txt": "stars"}}
