"""The processor suite: a valid JSON Schema for the config, bad configs refused before
any row moves, and rows streamed batch by batch with nothing read ahead."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import jsonschema
import pytest

from tdtp_core.errors import ConfigError
from tdtp_core.protocols import Processor
from tdtp_core.stream import Batch, TableStream
from tdtp_core.testing.conformance._base import Conformance
from tdtp_core.testing.data import TYPE_MATRIX_ROWS, TYPE_MATRIX_SCHEMA
from tdtp_core.types import Schema


class _CountingSource:
    """A stream source that counts the batches pulled from it."""

    def __init__(self, schema: Schema, batches: list[Batch]) -> None:
        self.pulled = 0
        self.stream = TableStream(schema, self._batches(batches), table="t")

    def _batches(self, batches: list[Batch]) -> Iterator[Batch]:
        for batch in batches:
            self.pulled += 1
            yield batch


class ProcessorConformance(Conformance):
    """Subclass it with a config that fits ``schema`` (the type matrix by default)::

        class TestMask(ProcessorConformance):
            plugin = "tdtp_processor_mask"
            component = "mask"
            config = {"fields": {"txt": "stars"}}
    """

    kind = "processors"
    #: A valid configuration for ``schema``.
    config: ClassVar[Any] = None
    #: A configuration the processor must refuse with ``ConfigError``.
    bad_config: ClassVar[Any] = ["not", "a", "config", "object"]
    #: False for a processor that drops or adds rows (a filter, a validator that rejects).
    keeps_row_count: ClassVar[bool] = True
    schema: ClassVar[Schema] = TYPE_MATRIX_SCHEMA
    rows: ClassVar[Sequence[tuple[Any, ...]]] = TYPE_MATRIX_ROWS

    def make(self, config: Any) -> Processor:
        """The processor built with ``config``, as core builds it (``Cls(config)``)."""
        processor: Processor = self.component_class()(config)
        return processor

    def source(self, batch_rows: int = 1) -> _CountingSource:
        """The test rows in batches of ``batch_rows``, counting what is pulled."""
        rows = list(self.rows)
        batches = [rows[i:i + batch_rows] for i in range(0, len(rows), batch_rows)]
        return _CountingSource(self.schema, batches)

    def test_is_a_processor_named_as_registered(self) -> None:
        processor = self.make(self.config)
        assert isinstance(processor, Processor)
        assert processor.name == self.component

    def test_config_schema_is_valid_json_schema(self) -> None:
        declared = self.component_class().config_schema
        assert isinstance(declared, Mapping)
        schema = dict(declared)
        validator = jsonschema.validators.validator_for(schema)
        validator.check_schema(schema)
        if self.config is not None:
            validator(schema).validate(self.config)

    def test_refuses_a_bad_config_before_any_row_moves(self) -> None:
        source = self.source()
        with pytest.raises(ConfigError):
            self.make(self.bad_config).process(source.stream)
        assert source.pulled == 0

    def test_streams_batch_by_batch_without_reading_ahead(self) -> None:
        source = self.source()
        out = self.make(self.config).process(source.stream)
        assert source.pulled == 0, "process() read rows before it was iterated"
        pulled_at: list[int] = []
        for _batch in out.batches():
            pulled_at.append(source.pulled)
        if self.keeps_row_count:
            assert pulled_at[:1] == [1], (
                f"the first batch came out after {pulled_at[:1]} batches went in")
        assert source.pulled == len(self.rows)

    def test_keeps_the_row_count_and_the_schema_width(self) -> None:
        out = self.make(self.config).process(self.source(batch_rows=2).stream)
        rows = out.rows()
        if self.keeps_row_count:
            assert len(rows) == len(self.rows)
        assert all(len(row) == len(out.schema) for row in rows)

    def test_empty_stream_stays_empty(self) -> None:
        empty = TableStream(self.schema, iter(()), table="t")
        assert self.make(self.config).process(empty).rows() == []
