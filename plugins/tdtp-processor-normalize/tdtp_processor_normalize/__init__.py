"""tdtp plugin: the ``normalize`` processor. Only the hook lives here, so discovery stays
cheap (phonenumbers is imported when a field is normalised to E.164)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_processors(registry: Registrar) -> None:
    registry.add("normalize", "tdtp_processor_normalize.processor:NormalizeProcessor")
