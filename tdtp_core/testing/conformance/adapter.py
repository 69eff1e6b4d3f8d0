"""The database adapter suite: every TDTP type survives a write and a read, the four
import strategies do what they say, an import is all or nothing, and a packet set
imported twice is skipped the second time (the ledger)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tdtp_core.errors import TdtpError
from tdtp_core.protocols import Adapter
from tdtp_core.stream import Batch, TableStream
from tdtp_core.testing.conformance._base import Conformance
from tdtp_core.testing.data import TYPE_MATRIX_ROWS, TYPE_MATRIX_SCHEMA, make_stream
from tdtp_core.types import Field, Schema

PEOPLE = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])
BEFORE = [(1, "a"), (2, "b")]
INCOMING = [(2, "B"), (3, "c")]
#: What each strategy leaves after importing INCOMING into a table holding BEFORE.
AFTER = {
    "replace": [(1, "a"), (2, "B"), (3, "c")],
    "ignore": [(1, "a"), (2, "b"), (3, "c")],
    "copy": [(2, "B"), (3, "c")],
}


def _sorted(stream: TableStream) -> list[tuple[Any, ...]]:
    return sorted(stream.rows(), key=lambda row: row[0])


class AdapterConformance(Conformance):
    """Subclass it with a URL for a scratch database (``{tmp}`` is the test's temporary
    directory), or override the ``adapter_url`` fixture for a server::

        class TestSqlite(AdapterConformance):
            plugin = "tdtp_adapter_sqlite"
            component = "sqlite"
            url_template = "sqlite:///{tmp}/conformance.db"
    """

    kind = "adapters"
    url_template: ClassVar[str] = ""
    schema: ClassVar[Schema] = TYPE_MATRIX_SCHEMA
    rows: ClassVar[Sequence[tuple[Any, ...]]] = TYPE_MATRIX_ROWS

    @pytest.fixture
    def adapter_url(self, tmp_path: Path) -> str:
        if not self.url_template:
            pytest.fail(f"{type(self).__name__}: set url_template or override the "
                        "adapter_url fixture", pytrace=False)
        return self.url_template.format(tmp=tmp_path.as_posix())

    @pytest.fixture
    def adapter(self, adapter_url: str) -> Iterator[Adapter]:
        instance: Adapter = self.component_class()(adapter_url)
        yield instance
        instance.close()

    @pytest.fixture
    def table(self, adapter: Adapter) -> Iterator[str]:
        """A table name no other test uses, dropped afterwards where the adapter can."""
        name = f"conformance_{secrets.token_hex(4)}"
        yield name
        _drop(adapter, name)

    def people(self, adapter: Adapter, table: str) -> None:
        """Create ``table`` (id key, name) holding the rows (1, "a") and (2, "b")."""
        adapter.write(make_stream(BEFORE, PEOPLE, table=table), create=True, strategy="fail")

    def test_is_an_adapter_chosen_by_its_url(self, adapter: Adapter,
                                              adapter_url: str) -> None:
        assert isinstance(adapter, Adapter)
        chosen = self.plugin_host().adapter_for_url(adapter_url)
        assert type(chosen) is self.component_class()
        chosen.close()

    def test_type_matrix_round_trips(self, adapter: Adapter, table: str) -> None:
        stream = make_stream(self.rows, self.schema, table=table, batch_size=2)
        result = adapter.write(stream, create=True)
        assert result.rows == len(self.rows) and result.created
        assert _sorted(adapter.read(table)) == sorted(self.rows, key=lambda row: row[0])

    def test_lists_and_inspects_the_table(self, adapter: Adapter, table: str) -> None:
        self.people(adapter, table)
        assert table in adapter.list_tables()
        info = adapter.inspect(table)
        assert info.schema.names == PEOPLE.names and info.row_count == len(BEFORE)
        assert [f.name for f in info.schema.key_fields] == ["id"]

    @pytest.mark.parametrize("strategy", sorted(AFTER))
    def test_strategy(self, adapter: Adapter, table: str, strategy: str) -> None:
        self.people(adapter, table)
        result = adapter.write(make_stream(INCOMING, PEOPLE, table=table), strategy=strategy)
        assert result.strategy == strategy
        assert _sorted(adapter.read(table)) == AFTER[strategy]

    def test_fail_strategy_refuses_an_existing_key_and_changes_nothing(
        self, adapter: Adapter, table: str
    ) -> None:
        self.people(adapter, table)
        with pytest.raises(TdtpError):
            adapter.write(make_stream(INCOMING, PEOPLE, table=table), strategy="fail")
        assert _sorted(adapter.read(table)) == BEFORE

    def test_import_is_all_or_nothing(self, adapter: Adapter, table: str) -> None:
        self.people(adapter, table)

        def broken() -> Iterator[Batch]:
            yield [(3, "c")]
            raise TdtpError("part 2 is damaged")

        with pytest.raises(TdtpError, match="part 2"):
            adapter.write(TableStream(PEOPLE, broken(), table=table))
        assert _sorted(adapter.read(table)) == BEFORE

    def test_ledger_skips_a_packet_set_imported_before(self, adapter: Adapter,
                                                       table: str) -> None:
        self.people(adapter, table)

        def packet_set(rows: list[tuple[Any, ...]]) -> TableStream:
            stream = make_stream(rows, PEOPLE, table=table)
            stream.metadata["message_ids"] = [f"{table}-msg-1", f"{table}-msg-2"]
            return stream

        first = adapter.write(packet_set([(3, "c")]))
        again = adapter.write(packet_set([(3, "changed")]))
        assert first.rows == 1 and not first.skipped_duplicate
        assert again.skipped_duplicate and again.rows == 0
        assert _sorted(adapter.read(table)) == [*BEFORE, (3, "c")]
        forced = adapter.write(packet_set([(3, "forced")]), force=True)
        assert forced.rows == 1 and not forced.skipped_duplicate
        assert _sorted(adapter.read(table))[-1] == (3, "forced")

    def test_query_is_applied(self, adapter: Adapter, table: str) -> None:
        from tdtp_core.tdtql import parse

        adapter.write(make_stream([(i, f"n{i}") for i in range(1, 8)], PEOPLE, table=table),
                      create=True)
        query = parse(where="id >= 3", order_by="id DESC", limit=2)
        assert adapter.read(table, query).rows() == [(7, "n7"), (6, "n6")]


def _drop(adapter: Adapter, table: str) -> None:
    """DROP the table through a SQLAlchemy engine when the adapter has one."""
    engine = getattr(adapter, "engine", None)
    if engine is None:
        return
    import sqlalchemy as sa

    with engine.begin() as conn:
        quoted = conn.dialect.identifier_preparer.quote(table)
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {quoted}"))
