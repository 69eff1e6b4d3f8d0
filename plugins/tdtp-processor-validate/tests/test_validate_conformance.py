"""The validate processor passes tdtp's processor conformance suite."""

from __future__ import annotations

from typing import Any, ClassVar

from tdtp_core.testing import ProcessorConformance


class TestValidateConformance(ProcessorConformance):
    plugin = "tdtp_processor_validate"
    component = "validate"
    config: ClassVar[dict[str, Any]] = {"rules": {"id": "required"}, "on_error": "fail"}
