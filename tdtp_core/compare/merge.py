"""Merge tables that share a key into one (framework spec §9.2, made deterministic).

Strategies (each key once in the result, except ``append``):

``union``         every key; the first occurrence wins (the reference's ``union``, the
                  same rows as ``left-wins``)
``left-wins``     every key; the first occurrence wins
``right-wins``    every key; the last occurrence wins
``intersection``  the first table's rows whose key is in every other table
``append``        every row of every table, in order; no key needed

Rows come out in input order, then row order (for ``right-wins``: where each winning row
stands). A *duplicate* is a key seen again; a *conflict* is a duplicate whose other fields
differ (an identical repeat is not one, unlike the reference, which counts both).

Schemas: the tables must have the same field names (any order; the first table's order
is kept) and compatible types (``tdtp_core.compare.fields``), else ``SchemaError`` naming
the fields. Numeric fields widen to the type that holds all inputs: DECIMAL if any input
is DECIMAL (precision and scale widened), else REAL if any is REAL; a timestamp is zoned
if any input's is (naive values taken as UTC); a TEXT length is the largest.

Memory: the keys seen (with a row digest); ``intersection`` holds the keys of the tables
after the first. ``right-wins`` reads every table twice; a plain ``TableStream`` given
to it is held in memory for that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from typing import Any

import xxhash

from tdtp_core.compare.fields import (
    NUMERIC,
    Opener,
    Texts,
    align,
    comparison_texts,
    reopenable,
    resolve_names,
)
from tdtp_core.errors import ConfigError
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, TableStream
from tdtp_core.types import DATE, DATE_KINDS, DECIMAL, INTEGER, REAL, TEXT, Field, Schema

#: Accepted names (the reference's CLI and library spellings too) → strategy.
STRATEGIES = {
    "union": "union",
    "left-wins": "left-wins", "left": "left-wins", "left-priority": "left-wins",
    "left_priority": "left-wins",
    "right-wins": "right-wins", "right": "right-wins", "right-priority": "right-wins",
    "right_priority": "right-wins",
    "intersection": "intersection", "intersect": "intersection",
    "append": "append",
}
#: Conflicting keys kept for the report.
CONFLICTS_KEPT = 20

Convert = Callable[[Sequence[Any]], Sequence[Any]]
Key = tuple[str | None, ...]


@dataclass
class MergeStats:
    """Counts, complete once the merged stream has been read."""

    inputs: int
    strategy: str
    rows_in: int = 0
    rows_out: int = 0
    duplicates: int = 0
    conflicts: int = 0
    #: The first conflicting keys, as ``a|b`` texts.
    conflict_keys: list[str] = field(default_factory=list)

    @property
    def resolution(self) -> str:
        return "used_new" if self.strategy == "right-wins" else "kept_existing"

    def as_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "strategy": self.strategy, "rows_in": self.rows_in,
                "rows_out": self.rows_out, "duplicates": self.duplicates,
                "conflicts": self.conflicts, "conflict_keys": self.conflict_keys,
                "resolution": self.resolution}

    def text(self) -> str:
        """The reference's report (framework spec §9.2.1)."""
        lines = [
            "=== Merge Statistics ===",
            f"Packets merged: {self.inputs}",
            f"Total rows in:  {self.rows_in}",
            f"Total rows out: {self.rows_out}",
            f"Duplicates:     {self.duplicates}",
            f"Conflicts:      {self.conflicts}",
        ]
        if self.conflicts:
            shown = self.conflict_keys[:10]
            heading = ("=== Conflicts ===" if self.conflicts <= 10 else
                       f"=== Conflicts ({self.conflicts} total, showing first 10) ===")
            lines += ["", heading] + [f"Key {k}: {self.resolution}" for k in shown]
        return "\n".join(lines)


@dataclass
class MergeResult:
    """The merged table (lazy) and its statistics (filled as it is read)."""

    stream: TableStream
    stats: MergeStats


def _widen(a: Field, b: Field) -> Field:
    """A field holding the values of both (they are compatible)."""
    if a.kind in NUMERIC and a.kind != b.kind:
        if DECIMAL in (a.kind, b.kind):
            sides = [f for f in (a, b) if f.kind == DECIMAL]
            scale = max(f.scale or 0 for f in sides)
            whole = max([(f.precision or 18) - (f.scale or 0) for f in sides]
                        + ([19] if INTEGER in (a.kind, b.kind) else []))
            return Field(a.name, DECIMAL, precision=min(whole + scale, 38), scale=scale,
                         key=a.key)
        return a if a.kind == REAL else Field(a.name, REAL, key=a.key)
    if a.kind == DECIMAL:
        scale = max(a.scale or 0, b.scale or 0)
        whole = max((a.precision or 18) - (a.scale or 0), (b.precision or 18) - (b.scale or 0))
        return a.replace(precision=min(whole + scale, 38), scale=scale)
    if a.kind in DATE_KINDS and a.kind != DATE and b.timezone and not a.timezone:
        return a.replace(timezone=b.timezone)
    if a.kind == TEXT and a.length is not None:
        return a.replace(length=None if b.length is None else max(a.length, b.length))
    return a


def _decimal(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _converter(source: Field, target: Field) -> Convert | None:
    """Values of ``source`` as values of the wider ``target`` (None: no change needed)."""
    if target.kind == DECIMAL and source.kind != DECIMAL:
        return lambda values: [None if v is None else _decimal(v) for v in values]
    if target.kind == REAL and source.kind == INTEGER:
        return lambda values: [None if v is None else float(v) for v in values]
    if target.timezone and not source.timezone and target.kind in DATE_KINDS:
        return lambda values: [v.replace(tzinfo=UTC) if hasattr(v, "tzinfo") else v
                               for v in values]
    return None


class _Input:
    """One input table, its fields lined up with the result's and made to fit them."""

    def __init__(self, opener: Opener, first: TableStream, positions: list[int],
                 converters: list[Convert | None]) -> None:
        self.opener = opener
        self.first: TableStream | None = first
        self.positions = positions
        self.converters = converters

    def open(self) -> TableStream:
        stream, self.first = self.first, None
        return stream if stream is not None else self.opener()


class _Reader:
    """Rows of an input as (key, digest, values) in the result's field order."""

    def __init__(self, schema: Schema, keys: list[int]) -> None:
        self.keys = keys
        self.texts: list[Texts] = [comparison_texts(f) for f in schema]

    def rows(self, source: _Input, with_digest: bool
             ) -> Iterator[tuple[Key, bytes, tuple[Any, ...]]]:
        for batch in source.open().batches():
            columns = list(zip(*batch, strict=True))
            ordered = [columns[p] if c is None else c(columns[p])
                       for p, c in zip(source.positions, source.converters, strict=True)]
            texts = [t(col) for t, col in zip(self.texts, ordered, strict=True)] if (
                with_digest) else [self.texts[k](ordered[k]) if k in self.keys else []
                                   for k in range(len(ordered))]
            for j, values in enumerate(zip(*ordered, strict=True)):
                key = tuple(texts[k][j] for k in self.keys)
                digest = xxhash.xxh3_128_digest(
                    repr(tuple(t[j] for t in texts)).encode("utf-8", "surrogatepass")
                ) if with_digest else b""
                yield key, digest, values


def merge(
    sources: Sequence[TableStream | Opener],
    *,
    strategy: str = "union",
    key: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> MergeResult:
    """Merge tables (streams, or functions opening them) into one lazy stream.

    ``labels`` name the inputs in errors (default ``input 1``, ``input 2``, ...).
    """
    chosen = STRATEGIES.get(strategy.lower())
    if chosen is None:
        raise ConfigError(f"unknown merge strategy {strategy!r} (strategies: union, "
                          "left-wins, right-wins, intersection, append)")
    if not sources:
        raise ConfigError("no tables to merge")
    names = list(labels) if labels is not None else [f"input {i}" for i in
                                                      range(1, len(sources) + 1)]
    openers = [reopenable(s) if chosen == "right-wins" or not isinstance(s, TableStream)
               else (lambda s=s: s) for s in sources]
    streams = [o() for o in openers]
    base = streams[0].schema
    fields = list(base)
    alignments = [list(range(len(base)))]
    for stream, name in zip(streams[1:], names[1:], strict=True):
        positions = align(base, stream.schema, names=(names[0], name))
        alignments.append(positions)
        fields = [_widen(f, stream.schema[p]) for f, p in zip(fields, positions, strict=True)]
    schema = base.with_fields(fields)
    inputs = [
        _Input(o, s, pos, [_converter(s.schema[p], f) for f, p in zip(fields, pos, strict=True)])
        for o, s, pos in zip(openers, streams, alignments, strict=True)
    ]
    if chosen == "append":
        keys: list[int] = []
    else:
        keys = resolve_names(schema, key, "key") if key else [
            i for i, f in enumerate(base) if f.key]
        if not keys:
            raise ConfigError(f"merge strategy {chosen!r} needs key fields: the first table "
                              "has none, name them with --key (or use --strategy append)")
    stats = MergeStats(len(sources), chosen)
    reader = _Reader(schema, keys)
    rows = {"union": _first_wins, "left-wins": _first_wins, "right-wins": _last_wins,
            "intersection": _intersection, "append": _append}[chosen](inputs, reader, stats)
    return MergeResult(TableStream(schema, _batched(rows, stats, batch_size),
                                   table=streams[0].table), stats)


def _batched(rows: Iterator[tuple[Any, ...]], stats: MergeStats, size: int) -> Iterator[Batch]:
    batch: Batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            stats.rows_out += len(batch)
            yield batch
            batch = []
    if batch:
        stats.rows_out += len(batch)
        yield batch


def _conflict(stats: MergeStats, key: Key) -> None:
    stats.conflicts += 1
    if len(stats.conflict_keys) < CONFLICTS_KEPT:
        stats.conflict_keys.append("|".join("NULL" if k is None else k for k in key))


def _first_wins(inputs: list[_Input], reader: _Reader, stats: MergeStats
                ) -> Iterator[tuple[Any, ...]]:
    seen: dict[Key, bytes] = {}
    for source in inputs:
        for key, digest, values in reader.rows(source, with_digest=True):
            stats.rows_in += 1
            kept = seen.get(key)
            if kept is None:
                seen[key] = digest
                yield values
                continue
            stats.duplicates += 1
            if kept != digest:
                _conflict(stats, key)


def _last_wins(inputs: list[_Input], reader: _Reader, stats: MergeStats
               ) -> Iterator[tuple[Any, ...]]:
    winner: dict[Key, tuple[bytes, int, int]] = {}  # key -> digest, input, row
    for i, source in enumerate(inputs):
        for number, (key, digest, _) in enumerate(reader.rows(source, with_digest=True)):
            stats.rows_in += 1
            current = winner.get(key)
            if current is not None:
                stats.duplicates += 1
                if current[0] != digest:
                    _conflict(stats, key)
            winner[key] = (digest, i, number)
    for i, source in enumerate(inputs):
        for number, (key, _, values) in enumerate(reader.rows(source, with_digest=False)):
            _, at_input, at_row = winner[key]
            if at_input == i and at_row == number:
                yield values


def _intersection(inputs: list[_Input], reader: _Reader, stats: MergeStats
                  ) -> Iterator[tuple[Any, ...]]:
    common: set[Key] | None = None
    for source in inputs[1:]:
        keys: set[Key] = set()
        for key, _, _ in reader.rows(source, with_digest=False):
            stats.rows_in += 1
            if common is None or key in common:
                keys.add(key)
        common = keys
    emitted: dict[Key, bytes] = {}
    for key, digest, values in reader.rows(inputs[0], with_digest=True):
        stats.rows_in += 1
        kept = emitted.get(key)
        if kept is not None:
            stats.duplicates += 1
            if kept != digest:
                _conflict(stats, key)
        elif common is None or key in common:
            emitted[key] = digest
            yield values


def _append(inputs: list[_Input], reader: _Reader, stats: MergeStats
            ) -> Iterator[tuple[Any, ...]]:
    for source in inputs:
        for _, _, values in reader.rows(source, with_digest=False):
            stats.rows_in += 1
            yield values
