"""tdtp plugin: the MySQL/MariaDB adapter. Registers an import string only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_adapters(registry: Registrar) -> None:
    registry.add("mysql", "tdtp_adapter_mysql.adapter:MysqlAdapter",
                 schemes=("mysql", "mariadb"))
