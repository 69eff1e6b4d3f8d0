"""The plugin module stays light, and the format is found by the ``.xlsx`` extension.
(Format behaviour: ``tests/formats/test_xlsx.py`` at the repository root.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tdtp_format_xlsx.workbook import XlsxFormat

from tdtp_core import Field, Schema, TableStream


def test_plugin_import_is_light() -> None:
    code = ("import sys, tdtp_format_xlsx; "
            "print(sorted(m for m in ('openpyxl', 'lxml', 'pandas', 'tdtp_format_xlsx.workbook') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_registered_for_the_xlsx_extension() -> None:
    import tdtp_format_xlsx

    from tdtp_core.plugins import PluginHost

    host = PluginHost(autoload=False)
    host.register_module(tdtp_format_xlsx, dist_name="tdtp-format-xlsx")
    assert isinstance(host.format_for_path("Report.XLSX"), XlsxFormat)


def test_round_trip(tmp_path: Path) -> None:
    schema = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])
    fmt = XlsxFormat()
    fmt.write(TableStream.from_rows(schema, [(1, "a"), (2, None)], table="t"),
              tmp_path / "t.xlsx")
    back = fmt.read([tmp_path / "t.xlsx"])
    assert (back.schema, back.rows()) == (schema, [(1, "a"), (2, None)])
