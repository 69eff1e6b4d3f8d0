"""What every processor shares: a validated config, binding to a schema, column-wise work.

A processor is configured once (``Cls(config)``, the config checked against
``config_schema`` so a mistake is reported before any row moves) and then bound to each
stream it processes: :meth:`BaseProcessor.bind` sees the input schema and returns a
:class:`Step` with the output schema (fields may be added, dropped, renamed or retyped),
the function applied to every batch, and an optional ``finish`` run when the stream ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.types import TEXT, Field, Schema
from tdtp_core.values import column_texts
from tdtp_core.yamlconf import PathPart, schema_problem

if TYPE_CHECKING:
    from tdtp_core.stream import Batch, TableStream

#: A function from one column's values (in a batch) to the new values of that column.
ColumnFn = Callable[[Sequence[Any]], list[Any]]


def json_path(path: Sequence[PathPart]) -> str:
    """``("fields", "email")`` → ``$.fields.email``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


class ProcessorConfigError(ConfigError):
    """A processor's configuration is wrong at ``path`` (a JSON path into the config).

    Keeping the path apart from the text lets a rule file report the YAML line instead.
    """

    def __init__(self, processor: str, path: Sequence[PathPart], detail: str,
                 origin: object | None = None) -> None:
        super().__init__(f"{json_path(path)}: {detail}", where=f"processor {processor!r}")
        self.processor = processor
        self.path = list(path)
        self.detail = detail
        #: The processor object that raised it, when known: tells apart two processors
        #: of one name (a pipeline's own ``mask`` and a ``--mask`` option).
        self.origin = origin


@dataclass
class Step:
    """A processor bound to one input schema."""

    schema: Schema
    batch: Callable[[Batch], Batch]
    #: Called once after the last batch (write a side output, raise collected errors).
    finish: Callable[[], None] | None = None


class BaseProcessor:
    """Base class for processors: validates the config and streams batches through a Step.

    Subclasses set ``name`` and ``config_schema`` and implement :meth:`bind`.
    """

    name: ClassVar[str] = ""
    config_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}

    def __init__(self, config: Any = None) -> None:
        data = {} if config is None else config
        problem = schema_problem(self.config_schema, data)
        if problem is not None:
            raise ProcessorConfigError(self.name, *problem)
        self.config: Mapping[str, Any] = data

    def config_error(self, path: Sequence[PathPart], detail: str) -> ProcessorConfigError:
        return ProcessorConfigError(self.name, path, detail, origin=self)

    def bind(self, schema: Schema, table: str) -> Step:
        raise NotImplementedError

    def process(self, stream: TableStream) -> TableStream:
        step = self.bind(stream.schema, stream.table)
        return stream.derive(_run(step, stream.batches()), schema=step.schema)

    def field_index(self, schema: Schema, name: str, path: Sequence[PathPart], table: str
                    ) -> int:
        """The position of a configured field; a missing one is a config error, since a
        misspelt field must not let data through unprocessed."""
        try:
            return schema.index(name)
        except SchemaError:
            raise self.config_error(
                path, f"table {table!r} has no field {name!r} (fields: {', '.join(schema.names)})"
            ) from None


def _run(step: Step, batches: Iterator[Batch]) -> Iterator[Batch]:
    for batch in batches:
        out = step.batch(batch)
        if out:
            yield out
    if step.finish is not None:
        step.finish()


def field_rules_schema(rule_object: Mapping[str, Any]) -> dict[str, Any]:
    """The config schema of a :class:`ColumnProcessor`: ``{"fields": {name: rule}}``,
    each rule a kind string or a ``rule_object``."""
    return {
        "type": "object",
        "required": ["fields"],
        "additionalProperties": False,
        "properties": {
            "fields": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"anyOf": [{"type": "string"}, rule_object]},
            },
        },
    }


class ColumnProcessor(BaseProcessor):
    """A processor that rewrites the columns named in ``config["fields"]``, column-wise.

    Each batch is transposed once, the configured columns are mapped whole (so per-value
    work stays in tight loops) and the rows are rebuilt: no per-cell dicts.
    """

    def field_rules(self) -> Mapping[str, Any]:
        """Field name → rule; the raw ``config["fields"]`` unless a subclass parses it."""
        rules: Mapping[str, Any] = self.config["fields"]
        return rules

    def column(self, field: Field, rule: Any, path: Sequence[PathPart]) -> tuple[Field, ColumnFn]:
        """The output field and the column function for one configured field."""
        raise NotImplementedError

    def bind(self, schema: Schema, table: str) -> Step:
        fields = list(schema.fields)
        plans: list[tuple[int, ColumnFn]] = []
        for name, rule in self.field_rules().items():
            path = ("fields", name)
            i = self.field_index(schema, name, path, table)
            fields[i], fn = self.column(fields[i], rule, path)
            plans.append((i, fn))

        def run(batch: Batch) -> Batch:
            columns: list[Sequence[Any]] = list(zip(*batch, strict=True))
            for i, fn in plans:
                columns[i] = fn(columns[i])
            return list(zip(*columns, strict=True))

        return Step(schema.with_fields(fields), run)


def cell_texts(field: Field) -> Callable[[Sequence[Any]], list[str | None]]:
    """Values as their canonical cell text (``1500.50``, ``2024-01-31``); NULL stays None.

    What text rules (masks, regexes, lengths) see for a field that is not TEXT.
    """
    if field.kind == TEXT and not field.is_time:
        return list
    return column_texts(field)
