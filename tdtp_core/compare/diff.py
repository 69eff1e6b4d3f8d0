"""Diff of two tables: rows added, removed and changed, sorted by key (DECISIONS 17).

Rows pair up by key: the ``key`` fields given, else table A's key fields. A table with no
key is compared as a multiset of whole rows (a changed row shows as one removed and one
added). Values compare by type (see ``tdtp_core.compare.fields``); ``ignore_case``
compares TEXT case-insensitively (the reference's default; ours is exact).

Memory: the key index of table A (each key and a 16-byte digest of its row), plus the
rows that differ. A is read twice (index, then the rows that differ), B once; a plain
``TableStream`` given as A is held in memory to be read again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import xxhash

from tdtp_core.compare.fields import (
    Opener,
    Texts,
    align,
    cell_texts,
    comparison_texts,
    reopenable,
    resolve_names,
    sort_value,
)
from tdtp_core.errors import SchemaError
from tdtp_core.stream import TableStream
from tdtp_core.types import Schema

Cells = list[str | None]


@dataclass(frozen=True)
class FieldChange:
    index: int
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class RowChange:
    key: dict[str, str | None]
    changes: list[FieldChange]


@dataclass
class DiffResult:
    """What differs between table A and table B; rows are cell texts in A's field order."""

    table_a: str
    table_b: str
    fields: list[str]
    key: list[str]
    total_a: int = 0
    total_b: int = 0
    unchanged: int = 0
    added: list[Cells] = field(default_factory=list)
    removed: list[Cells] = field(default_factory=list)
    modified: list[RowChange] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.added or self.removed or self.modified)

    def as_dict(self) -> dict[str, Any]:
        """The reference's JSON report (framework spec §9.1.2); ``key`` is an object of
        key field → value, and ``table``, ``key_fields`` and ``equal`` are added."""
        out: dict[str, Any] = {
            "table": self.table_a,
            "key_fields": self.key,
            "equal": self.equal,
            "stats": {
                "TotalInA": self.total_a, "TotalInB": self.total_b,
                "AddedCount": len(self.added), "RemovedCount": len(self.removed),
                "ModifiedCount": len(self.modified), "UnchangedCount": self.unchanged,
            },
        }
        if self.table_b != self.table_a:
            out["table_b"] = self.table_b
        if self.added:
            out["added"] = [{"fields": dict(zip(self.fields, r, strict=True))} for r in self.added]
        if self.removed:
            out["removed"] = [{"fields": dict(zip(self.fields, r, strict=True))}
                              for r in self.removed]
        if self.modified:
            out["modified"] = [
                {"key": m.key, "changes": {c.field: {"old": c.old, "new": c.new}
                                           for c in m.changes}}
                for m in self.modified
            ]
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def text(self) -> str:
        """The reference's text report (framework spec §9.1.1); NULL shows as ``NULL``."""
        lines = [
            "=== Diff Statistics ===",
            f"Total in A: {self.total_a}",
            f"Total in B: {self.total_b}",
            f"Added:      {len(self.added)}",
            f"Removed:    {len(self.removed)}",
            f"Modified:   {len(self.modified)}",
            f"Unchanged:  {self.unchanged}",
        ]
        for title, sign, rows in (("Added", "+", self.added), ("Removed", "-", self.removed)):
            if rows:
                lines += ["", f"=== {title} ({len(rows)}) ==="]
                lines += [f"{sign} " + " | ".join(_shown(c) for c in row) for row in rows]
        if self.modified:
            lines += ["", f"=== Modified ({len(self.modified)}) ==="]
            for m in self.modified:
                lines.append("~ Key: " + "|".join(_shown(v) for v in m.key.values()))
                lines += [f"  [{c.index}] {c.field}: {_quoted(c.old)} → {_quoted(c.new)}"
                          for c in m.changes]
        return "\n".join(lines)


def _shown(cell: str | None) -> str:
    return "NULL" if cell is None else cell


def _quoted(cell: str | None) -> str:
    return "NULL" if cell is None else f"'{cell}'"


class _Side:
    """How one table's rows turn into keys, digests and shown cells."""

    def __init__(self, schema: Schema, positions: list[int], keys: list[int],
                 compared: list[int], comparers: list[Texts]) -> None:
        self.schema = schema
        self.positions = positions  # this table's position of each of A's fields
        self.keys = keys            # positions (in A's order) of the key fields
        self.compared = compared    # positions (in A's order) of the compared fields
        self.comparers = comparers  # per A field: comparison texts of this side's values
        self.shown = [cell_texts(schema[p]) for p in positions]

    def rows(self, stream: TableStream) -> Iterator[tuple[int, tuple[Any, ...], list[Any]]]:
        """(row number, key texts, columns-in-A-order row values) per row."""
        number = 0
        for batch in stream.batches():
            columns = list(zip(*batch, strict=True))
            ordered = [columns[p] for p in self.positions]
            texts = {i: self.comparers[i](ordered[i]) for i in (*self.keys, *self.compared)}
            for j in range(len(batch)):
                number += 1
                yield number, tuple(texts[k][j] for k in self.keys), [
                    texts[c][j] for c in self.compared] + [tuple(col[j] for col in ordered)]

    def cells(self, values: tuple[Any, ...]) -> Cells:
        return [shown([v])[0] for shown, v in zip(self.shown, values, strict=True)]


def _digest(texts: Sequence[str | None]) -> bytes:
    return xxhash.xxh3_128_digest(repr(tuple(texts)).encode("utf-8", "surrogatepass"))


def diff(
    a: TableStream | Opener,
    b: TableStream,
    *,
    key: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    ignore_case: bool = False,
) -> DiffResult:
    """Compare table ``a`` (a stream, or a function opening it: it is read twice) with
    table ``b``. Raises ``SchemaError`` when the fields differ and ``ConfigError`` for an
    unknown key or ignored field."""
    open_a = reopenable(a)
    first = open_a()
    schema_a, schema_b = first.schema, b.schema
    positions_b = align(schema_a, schema_b)
    keys = resolve_names(schema_a, key, "key") if key else [
        i for i, f in enumerate(schema_a) if f.key]
    ignored = set(resolve_names(schema_a, ignore, "ignored"))
    compared = [i for i in range(len(schema_a)) if i not in ignored and i not in keys]

    def comparers(mine: Schema, mine_pos: list[int], theirs: Schema, theirs_pos: list[int]
                  ) -> list[Texts]:
        return [comparison_texts(mine[p], theirs[q], ignore_case=ignore_case)
                for p, q in zip(mine_pos, theirs_pos, strict=True)]

    identity = list(range(len(schema_a)))
    side_a = _Side(schema_a, identity, keys, compared,
                   comparers(schema_a, identity, schema_b, positions_b))
    side_b = _Side(schema_b, positions_b, keys, compared,
                   comparers(schema_b, positions_b, schema_a, identity))
    result = DiffResult(first.table, b.table, schema_a.names, [schema_a[k].name for k in keys])
    if keys:
        _keyed(result, side_a, side_b, first, open_a, b)
    else:
        _multiset(result, side_a, side_b, first, open_a, b)
    return result


def _row_sort(values: tuple[Any, ...], positions: Sequence[int]) -> tuple[Any, ...]:
    return tuple(sort_value(values[p]) for p in positions)


def _keyed(result: DiffResult, side_a: _Side, side_b: _Side, first: TableStream,
           open_a: Opener, b: TableStream) -> None:
    names = result.fields
    index: dict[tuple[Any, ...], list[Any]] = {}  # key -> [digest, row number, matched]
    for number, key, row in side_a.rows(first):
        seen = index.get(key)
        if seen is not None:
            raise SchemaError(f"key {_key_text(key)} appears twice in A (rows {seen[1]} and "
                              f"{number}); diff needs unique keys (choose others with --key)")
        index[key] = [_digest(row[:-1]), number, False]
        result.total_a += 1
    added: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # key -> B's values
    changed: dict[tuple[Any, ...], list[Any]] = {}  # key -> B's compared texts + values
    for number, key, row in side_b.rows(b):
        result.total_b += 1
        entry = index.get(key)
        if (entry is not None and entry[2]) or key in added:
            raise SchemaError(f"key {_key_text(key)} appears twice in B (row {number}); "
                              "diff needs unique keys (choose others with --key)")
        if entry is None:
            added[key] = row[-1]
            continue
        entry[2] = True
        if entry[0] == _digest(row[:-1]):
            result.unchanged += 1
        else:
            changed[key] = row
    keys = side_a.keys
    removed: list[tuple[Any, ...]] = []
    modified: list[tuple[tuple[Any, ...], RowChange]] = []
    if result.unchanged < result.total_a:
        for _, key, row in side_a.rows(open_a()):
            values = row[-1]
            if not index[key][2]:
                removed.append(values)
            elif key in changed:
                theirs = changed[key]
                old, new = side_a.cells(values), side_b.cells(theirs[-1])
                diffs = [FieldChange(c, names[c], old[c], new[c])
                         for j, c in enumerate(side_a.compared) if row[j] != theirs[j]]
                modified.append((values, RowChange({names[k]: old[k] for k in keys}, diffs)))
    result.removed = [side_a.cells(v) for v in sorted(removed, key=lambda v: _row_sort(v, keys))]
    result.modified = [m for _, m in sorted(modified, key=lambda m: _row_sort(m[0], keys))]
    result.added = [side_b.cells(v) for v in sorted(added.values(),
                                                    key=lambda v: _row_sort(v, keys))]


def _multiset(result: DiffResult, side_a: _Side, side_b: _Side, first: TableStream,
              open_a: Opener, b: TableStream) -> None:
    counts: Counter[bytes] = Counter()
    for _, _, row in side_a.rows(first):
        counts[_digest(row[:-1])] += 1
        result.total_a += 1
    added: list[tuple[Any, ...]] = []
    for _, _, row in side_b.rows(b):
        result.total_b += 1
        digest = _digest(row[:-1])
        if counts[digest]:
            counts[digest] -= 1
            result.unchanged += 1
        else:
            added.append(row[-1])
    removed: list[tuple[Any, ...]] = []
    if result.unchanged < result.total_a:
        for _, _, row in side_a.rows(open_a()):
            digest = _digest(row[:-1])
            if counts[digest]:
                counts[digest] -= 1
                removed.append(row[-1])
    order = range(len(result.fields))
    result.removed = [side_a.cells(v) for v in sorted(removed, key=lambda v: _row_sort(v, order))]
    result.added = [side_b.cells(v) for v in sorted(added, key=lambda v: _row_sort(v, order))]


def _key_text(key: tuple[Any, ...]) -> str:
    """A key as the report shows it: ``2``, ``eu|1``."""
    return "|".join("NULL" if k is None else str(k) for k in key)
