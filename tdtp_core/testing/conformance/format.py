"""The file format suite: what is written reads back as the same table, and the
format owns the extensions it registers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tdtp_core.protocols import Format
from tdtp_core.testing.conformance._base import Conformance
from tdtp_core.testing.data import TYPE_MATRIX_ROWS, TYPE_MATRIX_SCHEMA, make_stream
from tdtp_core.types import Schema


class FormatConformance(Conformance):
    """Subclass it; narrow ``schema``/``rows`` if the format cannot hold every type::

        class TestCsv(FormatConformance):
            plugin = "tdtp_core.builtin"
            component = "csv"
            write_options = {"schema_sidecar": True}
    """

    kind = "formats"
    write_options: ClassVar[Mapping[str, Any]] = {}
    read_options: ClassVar[Mapping[str, Any]] = {}
    schema: ClassVar[Schema] = TYPE_MATRIX_SCHEMA
    rows: ClassVar[Sequence[tuple[Any, ...]]] = TYPE_MATRIX_ROWS

    @pytest.fixture
    def fmt(self) -> Format:
        instance: Format = self.component_class()()
        return instance

    def path(self, fmt: Format, directory: Path, stem: str = "table") -> Path:
        """A file name in ``directory`` with the format's first extension."""
        return directory / f"{stem}{fmt.extensions[0]}"

    def test_is_a_format_named_as_registered(self, fmt: Format) -> None:
        assert isinstance(fmt, Format)
        assert fmt.name == self.component
        assert fmt.extensions, "a format needs at least one file extension"
        assert all(e.startswith(".") and e == e.lower() for e in fmt.extensions)

    def test_registered_extensions_choose_this_format(self, fmt: Format,
                                                      tmp_path: Path) -> None:
        chosen = self.plugin_host().format_for_path(self.path(fmt, tmp_path))
        assert type(chosen) is type(fmt)

    def test_write_then_read_gives_the_same_table(self, fmt: Format, tmp_path: Path) -> None:
        stream = make_stream(self.rows, self.schema, table="table", batch_size=2)
        paths = fmt.write(stream, self.path(fmt, tmp_path), **self.write_options)
        assert paths and all(p.is_file() for p in paths)
        back = fmt.read(paths, **self.read_options)
        assert back.schema.names == self.schema.names
        assert back.rows() == list(self.rows)

    def test_empty_table_round_trips(self, fmt: Format, tmp_path: Path) -> None:
        stream = make_stream([], self.schema, table="table")
        paths = fmt.write(stream, self.path(fmt, tmp_path), **self.write_options)
        back = fmt.read(paths, **self.read_options)
        assert back.schema.names == self.schema.names
        assert back.rows() == []
