"""tdtp plugin: the ``mask`` processor. Only the hook lives here, so discovery stays cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_processors(registry: Registrar) -> None:
    registry.add("mask", "tdtp_processor_mask.processor:MaskProcessor")
