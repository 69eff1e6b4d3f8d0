"""Streaming: memory does not grow with the table, and parts respect their size budget
and carry what a part must carry (schema, MessageID ``{base}-P{n}``, counts)."""

from __future__ import annotations

import gc
import re
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.packet import DEFAULT_PART_SIZE, inspect_packet, parse_packet
from tdtp_core.stream import batched

BIG_SCHEMA = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT", length=200),
    Field("score", "REAL"),
    Field("note", "TEXT"),
])
_NOTES = (None, "", "привет\nworld", "a|b\\c & <xml>", "plain text")


def big_rows(n: int) -> Iterator[tuple[Any, ...]]:
    """``n`` generated rows, never held in memory all at once."""
    for i in range(n):
        yield (i, f"name {i}", i / 8, _NOTES[i % 5])


def _stream(n: int) -> TableStream:
    return TableStream(BIG_SCHEMA, batched(big_rows(n)), table="big")


@dataclass
class BigRun:
    rows: int
    paths: list[Path]
    write_peak: int
    read_peak: int
    read_count: int


def _measure(fn: Callable[[], Any]) -> tuple[Any, int]:
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def _count_rows(paths: list[Path]) -> int:
    count = 0
    for _ in read_packets(paths[0]):
        count += 1
    return count


@pytest.fixture(scope="module")
def big_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, BigRun]:
    """Write and read 100k and 300k generated rows, tracing peak memory of each."""
    warm = tmp_path_factory.mktemp("warm")
    _count_rows(write_packets(_stream(20_000), warm / "warm.tdtp.xml"))
    runs = {}
    for n in (100_000, 300_000):
        target = tmp_path_factory.mktemp(f"big{n}") / "big.tdtp.xml"
        paths, write_peak = _measure(lambda target=target, n=n: write_packets(_stream(n), target))
        count, read_peak = _measure(lambda paths=paths: _count_rows(paths))
        runs[n] = BigRun(n, paths, write_peak, read_peak, count)
    return runs


@pytest.mark.slow
def test_big_table_reads_back_every_row(big_runs: dict[int, BigRun]) -> None:
    assert {n: run.read_count for n, run in big_runs.items()} == {n: n for n in big_runs}


@pytest.mark.slow
def test_big_table_is_split_into_default_sized_parts(big_runs: dict[int, BigRun]) -> None:
    run = big_runs[300_000]
    assert len(run.paths) > 3
    assert all(p.stat().st_size <= DEFAULT_PART_SIZE for p in run.paths)


@pytest.mark.slow
def test_write_memory_does_not_grow_with_rows(big_runs: dict[int, BigRun]) -> None:
    small, large = big_runs[100_000].write_peak, big_runs[300_000].write_peak
    assert large < small * 1.2, f"write peak {small:,} B for 100k rows, {large:,} B for 300k"


@pytest.mark.slow
def test_read_memory_does_not_grow_with_rows(big_runs: dict[int, BigRun]) -> None:
    small, large = big_runs[100_000].read_peak, big_runs[300_000].read_peak
    assert large < small * 1.2, f"read peak {small:,} B for 100k rows, {large:,} B for 300k"


@pytest.mark.slow
def test_memory_stays_within_a_few_parts(big_runs: dict[int, BigRun]) -> None:
    run = big_runs[300_000]
    assert max(run.write_peak, run.read_peak) < 40 * DEFAULT_PART_SIZE


# ---------------------------------------------------------------------- part sizes

PART_SIZE = 20_000
MIXED = Schema([Field("id", "INTEGER"), Field("grp", "TEXT"), Field("text", "TEXT"),
                Field("n", "REAL")])


def mixed_rows(n: int = 1500) -> list[tuple[Any, ...]]:
    """Rows whose XML form is much larger than their text (entities, multi-byte)."""
    out = []
    for i in range(n):
        text = ["&<>" * (i % 13), "ж" * (i % 29), "a|b\\c\n" * (i % 5), "\r\n" * (i % 4)][i % 4]
        out.append((i, f"group {i // 100}", text if i % 11 else None, i / 7))
    return out


OPTIONS: dict[str, dict[str, Any]] = {
    "plain": {},
    "compact": {"compact": True, "fixed_fields": ["grp"]},
    "integrity": {"integrity": True},
    "compressed": {"compress": "zstd"},
    "everything": {"compress": "zstd", "integrity": True, "compact": True,
                   "fixed_fields": ["grp"]},
}


@dataclass
class PartSet:
    rows: list[tuple[Any, ...]]
    paths: list[Path]
    options: dict[str, Any]


@pytest.fixture(params=list(OPTIONS), ids=list(OPTIONS))
def part_set(request: pytest.FixtureRequest, tmp_path: Path) -> PartSet:
    options = OPTIONS[request.param]
    if "compress" in options:
        request.getfixturevalue("zstd_codec")
        rows = mixed_rows(8000)
    else:
        rows = mixed_rows()
    paths = write_packets(TableStream.from_rows(MIXED, rows, table="mixed", batch_size=333),
                          tmp_path / "mixed.tdtp.xml", part_size=PART_SIZE, **options)
    return PartSet(rows, paths, options)


def test_parts_are_several(part_set: PartSet) -> None:
    assert len(part_set.paths) > 2


def test_every_part_within_part_size(part_set: PartSet) -> None:
    sizes = [p.stat().st_size for p in part_set.paths]
    assert max(sizes) <= PART_SIZE, sizes


def test_parts_read_back_in_order(part_set: PartSet) -> None:
    assert read_packets(*part_set.paths).rows() == part_set.rows


def test_every_part_carries_the_schema(part_set: PartSet) -> None:
    schemas = [inspect_packet(p).schema for p in part_set.paths]
    assert all(s.names == MIXED.names for s in schemas)
    assert all(s.compatible_with(MIXED) for s in schemas)


def test_part_message_ids_share_a_base(part_set: PartSet) -> None:
    headers = [inspect_packet(p).header for p in part_set.paths]
    base = headers[0].message_id.rsplit("-P", 1)[0]
    assert re.fullmatch(r"REF-\d{4}-[0-9a-f]{8}", base)
    assert [h.message_id for h in headers] == [f"{base}-P{n}" for n in range(1, len(headers) + 1)]


def test_part_numbers_and_total(part_set: PartSet) -> None:
    headers = [inspect_packet(p).header for p in part_set.paths]
    total = len(headers)
    assert [(h.part_number, h.total_parts) for h in headers] == [
        (n, total) for n in range(1, total + 1)]


def test_records_in_part_add_up(part_set: PartSet) -> None:
    counts = [inspect_packet(p).header.records_in_part for p in part_set.paths]
    assert all(c > 0 for c in counts)
    assert sum(counts) == len(part_set.rows)


UNCOMPRESSED = [k for k, v in OPTIONS.items() if "compress" not in v]
WITH_HASHES = [k for k, v in OPTIONS.items() if v.get("integrity")]


@pytest.mark.parametrize("part_set", UNCOMPRESSED, indirect=True)
def test_records_in_part_match_rows(part_set: PartSet) -> None:
    for path in part_set.paths:
        info = parse_packet(path)
        assert info.rows is not None
        assert len(info.rows) == info.header.records_in_part, path.name


@pytest.mark.parametrize("part_set", WITH_HASHES, indirect=True)
def test_each_part_is_stamped_on_its_own(part_set: PartSet) -> None:
    hashes = {inspect_packet(p).root_xxh3 for p in part_set.paths}
    assert len(hashes) == len(part_set.paths) and None not in hashes


def test_stream_header_is_the_first_part(part_set: PartSet) -> None:
    stream = read_packets(*reversed(part_set.paths))
    assert stream.header.part_number == 1
    assert stream.metadata["message_ids"][0].endswith("-P1")
    assert [Path(s) for s in stream.metadata["sources"]] == part_set.paths


# ----------------------------------------------------- rows larger than the budget

SMALL = [(i, "x") for i in range(3)]
HUGE = (99, "h" * 30_000)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 4, 5000])
@pytest.mark.parametrize("position", [0, 1, 2, 3])
def test_row_larger_than_a_part_travels_alone_once(
    tmp_path: Path, batch_size: int, position: int
) -> None:
    rows = [*SMALL[:position], HUGE, *SMALL[position:]]
    schema = Schema([Field("id", "INTEGER"), Field("v", "TEXT")])
    paths = write_packets(TableStream.from_rows(schema, rows, table="t", batch_size=batch_size),
                          tmp_path / "t.tdtp.xml", part_size=PART_SIZE)
    assert read_packets(*paths).rows() == rows
    counts = [inspect_packet(p).header.records_in_part for p in paths]
    assert all(c > 0 for c in counts), counts
    oversized = [p for p in paths if p.stat().st_size > PART_SIZE]
    assert len(oversized) == 1
    assert inspect_packet(oversized[0]).header.records_in_part == 1


def test_empty_table_is_one_part(tmp_path: Path) -> None:
    (path,) = write_packets(TableStream.from_rows(MIXED, [], table="t"), tmp_path / "e.tdtp.xml")
    header = inspect_packet(path).header
    assert (header.part_number, header.total_parts, header.records_in_part) == (1, 1, 0)
    assert read_packets(path).rows() == []


def test_default_part_size_is_the_reference_limit() -> None:
    assert DEFAULT_PART_SIZE == 1_900_000

