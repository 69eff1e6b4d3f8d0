"""Filtering a packet against decoding it (target: at most 1.3×).

Both sides read the same packet set from disk; the candidate also runs a three-condition
``--where`` through ``Query.apply`` (what ``tdtp filter`` does, minus writing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.cases_packet import decode_packet, prepare  # noqa: F401 - harness API
from benchmarks.harness import case

WHERE = "amount > 20000 AND active = 1 AND name LIKE 'alpha%'"
WHERE_MIXED = "score BETWEEN 100 AND 900 OR note IN ('plain note', 'a < b') OR id < 1000"

PAIRS = [
    ("filter_and3", "decode_packet"),
    ("filter_mixed3", "decode_packet"),
]


def _filter(workdir: Path, where: str) -> int:
    from tdtp_core import read_packets
    from tdtp_core.tdtql import parse

    paths = sorted(workdir.glob("input.tdtp*.xml"))
    stream = parse(where=where).apply(read_packets(*paths))
    return sum(len(b) for b in stream.batches())


@case("filter_and3")
def filter_and3(workdir: Path, n: int) -> Any:
    return _filter(workdir, WHERE)


@case("filter_mixed3")
def filter_mixed3(workdir: Path, n: int) -> Any:
    return _filter(workdir, WHERE_MIXED)
