"""Processors on the packet-to-packet path: masking two fields against a plain convert.

Target (issue #5): ``convert_masked`` ≤ 1.3 × ``convert_plain``. Masks work column-wise
per batch, and adjacent ``--mask`` options share one processor, so the cost is the masks
themselves plus one transposition per batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.datagen import SCHEMA, rows
from benchmarks.harness import case

PAIRS = [("convert_masked", "convert_plain")]


def prepare(workdir: Path, n: int) -> None:
    from tdtp_core import TableStream, write_packets

    write_packets(TableStream.from_rows(SCHEMA, rows(n), table="bench"),
                  workdir / "input.tdtp.xml")


def _convert(workdir: Path, masks: list[str]) -> Any:
    from tdtp_core import read_packets, write_packets
    from tdtp_core.processors import apply, build_chain

    stream = read_packets(*sorted(workdir.glob("input.tdtp*.xml")))
    paths = write_packets(apply(stream, build_chain(mask=masks)), workdir / "out.tdtp.xml")
    for p in paths:
        p.unlink()
    return len(paths)


@case("convert_plain")
def convert_plain(workdir: Path, n: int) -> Any:
    return _convert(workdir, [])


@case("convert_masked")
def convert_masked(workdir: Path, n: int) -> Any:
    return _convert(workdir, ["email:email", "name:partial"])
