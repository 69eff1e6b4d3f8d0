"""The benchmark table: 8 columns of mixed types, generated row by row (never stored).

ints, text with some ``|``, ``\\``, ``&``, ``<`` and NULLs, decimals, booleans and
timestamps — the shape the issues' targets are stated for. Deterministic for a given
row count, so every run measures the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tdtp_core import Field, Schema

SCHEMA = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT", length=100),
    Field("email", "TEXT"),
    Field("note", "TEXT"),
    Field("amount", "DECIMAL", precision=12, scale=2),
    Field("score", "REAL"),
    Field("active", "BOOLEAN"),
    Field("created", "TIMESTAMP", timezone="UTC"),
])

_WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
_NOTES = ["plain note", "pipe | inside", "back\\slash", "fish & chips", "a < b", None,
          "multi word note here", "", "ещё текст"]


def rows(n: int, seed: int = 42) -> Iterator[tuple[Any, ...]]:
    rnd = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        w = _WORDS[i % 8]
        yield (
            i,
            f"{w} {_WORDS[(i * 7) % 8]} {i}",
            f"user{i}@example.com",
            _NOTES[i % 9],
            Decimal(rnd.randrange(0, 10_000_000)).scaleb(-2),
            rnd.random() * 1000,
            i % 3 != 0,
            base + timedelta(seconds=i * 37),
        )
