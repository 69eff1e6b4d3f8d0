"""tdtp plugin: the ``xlsx`` file format. Only the hook lives here, so discovery stays
cheap (openpyxl is imported when a workbook is read or written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_formats(registry: Registrar) -> None:
    registry.add("xlsx", "tdtp_format_xlsx.workbook:XlsxFormat", extensions=(".xlsx",))
