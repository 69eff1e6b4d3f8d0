"""tdtp plugin: the ``validate`` processor. Only the hook lives here, so discovery stays
cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_processors(registry: Registrar) -> None:
    registry.add("validate", "tdtp_processor_validate.processor:ValidateProcessor")
