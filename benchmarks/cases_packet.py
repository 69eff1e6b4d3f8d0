"""Packet encode and decode against ``csv.writer`` and a bare lxml ``iterparse``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from benchmarks.datagen import SCHEMA, rows
from benchmarks.harness import case

PAIRS = [
    ("encode_packet", "encode_csv"),
    ("generate_only", "encode_csv"),
    ("decode_packet", "iterparse_bare"),
    ("decode_packet_raw", "iterparse_bare"),
]


def prepare(workdir: Path, n: int) -> None:
    from tdtp_core import TableStream, write_packets

    write_packets(TableStream.from_rows(SCHEMA, rows(n), table="bench"),
                  workdir / "input.tdtp.xml")


def _inputs(workdir: Path) -> list[Path]:
    return sorted(workdir.glob("input.tdtp*.xml"))


@case("generate_only")
def generate_only(workdir: Path, n: int) -> Any:
    """The row generator alone: subtract it from both sides to compare encoders only."""
    count = 0
    for _ in rows(n):
        count += 1
    return count


@case("encode_csv")
def encode_csv(workdir: Path, n: int) -> Any:
    with open(workdir / "out.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SCHEMA.names)
        writer.writerows(rows(n))
    return None


@case("encode_packet")
def encode_packet(workdir: Path, n: int) -> Any:
    from tdtp_core import TableStream, write_packets

    paths = write_packets(TableStream.from_rows(SCHEMA, rows(n), table="bench"),
                          workdir / "out.tdtp.xml")
    for p in paths:
        p.unlink()
    return len(paths)


@case("iterparse_bare")
def iterparse_bare(workdir: Path, n: int) -> Any:
    """What any streaming lxml reader does: visit every <R>, take its text, free it."""
    from lxml import etree

    count = 0
    for path in _inputs(workdir):
        for _, el in etree.iterparse(str(path), events=("end",), tag="R"):
            _ = el.text
            count += 1
            el.clear()
            while el.getprevious() is not None:
                del el.getparent()[0]
    return count


@case("decode_packet")
def decode_packet(workdir: Path, n: int) -> Any:
    from tdtp_core import read_packets

    return sum(len(b) for b in read_packets(*_inputs(workdir)).batches())


@case("decode_packet_raw")
def decode_packet_raw(workdir: Path, n: int) -> Any:
    from tdtp_core import read_packets

    return sum(len(b) for b in read_packets(*_inputs(workdir), raw=True).batches())
