"""The listener keeps part bodies on disk, not in memory, and leaves nothing behind."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tdtp_core.brokers import headers as H
from tdtp_core.brokers.assembler import BatchAssembler
from tdtp_core.brokers.listener import listen
from tdtp_core.brokers.sending import send_packets
from tdtp_core.brokers.spool import PREFIX, Spool
from tdtp_core.errors import IntegrityError
from tdtp_core.packet import encode_packets, write_packets
from tdtp_core.protocols import Message
from tdtp_core.stream import TableStream


def _messages(stream: TableStream) -> list[Message]:
    return [Message(b, H.part_headers(b), token=i)
            for i, b in enumerate(encode_packets(stream, part_size=4000))]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_parts_wait_on_disk_without_their_bodies_and_are_released(
        tmp_path: Path, make_stream: Callable[..., TableStream]) -> None:
    msgs = _messages(make_stream("a", 300))
    assert len(msgs) > 2
    spool = Spool(tmp_path)
    assembler = BatchAssembler(timeout=None, spool=spool)

    for i, msg in enumerate(msgs[:-1], 1):
        assert assembler.add(msg) is None
        assert [p.read_bytes() for p in _files(spool.path)] == [m.body for m in msgs[:i]]
    assert assembler.add(msgs[0]) is None  # a second copy: held for its ack, not stored
    assert len(_files(spool.path)) == len(msgs) - 1
    complete = assembler.add(msgs[-1])
    assert complete is not None

    # What stays in memory is what settling needs: handles and hash headers, no body.
    assert [m.token for m in complete.messages] == [*range(len(msgs)), 0]
    assert all(m.body == b"" for m in complete.messages)
    assert all(m.headers[H.BODY_XXH3] == H.body_hash(orig.body)
               for m, orig in zip(complete.messages, msgs, strict=False))
    complete.check_bodies()
    # The import reads the files; a dead letter gets the original bodies from them.
    assert [Path(s).read_bytes() for s in complete.sources] == [m.body for m in msgs]
    assert list(complete.part_bodies) == [m.body for m in msgs]

    complete.release()
    assert _files(spool.path) == [] and list(spool.path.iterdir()) == []
    root = spool.path
    spool.close()
    assert not root.exists()


def test_a_body_damaged_in_transit_is_caught_from_its_spooled_hash(
        tmp_path: Path, make_stream: Callable[..., TableStream]) -> None:
    (msg,) = _messages(make_stream("a", 5))
    damaged = Message(msg.body.replace(b"name 3", b"name X"), msg.headers)
    spool = Spool(tmp_path)
    part_set = BatchAssembler(spool=spool).add(damaged)
    assert part_set is not None
    with pytest.raises(IntegrityError, match="tdtp-body-xxh3"):
        part_set.check_bodies()
    spool.close()


def test_a_killed_listeners_spool_is_removed_by_the_next_run(tmp_path: Path) -> None:
    code = ("import sys, time; from tdtp_core.brokers.spool import Spool; "
            "s = Spool(sys.argv[1]); d = s.new_set('REF-1'); s.write(d, 1, b'x' * 1000); "
            "print(s.path, flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    dead = Path(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert dead.name.startswith(PREFIX) and _files(dead)  # what a SIGKILL leaves

    alive = Spool(tmp_path)
    alive.new_set("REF-2")  # a run still going: its spool is locked
    restarted = Spool(tmp_path)
    assert restarted.path != dead
    assert not dead.exists() and alive.path.exists()
    alive.close()
    restarted.close()
    assert list(tmp_path.iterdir()) == []


class _Watch:
    """A processor that looks at what the import reads, while it reads it."""

    name = "watch"
    config_schema: Mapping[str, Any] = {}

    def __init__(self) -> None:
        self.sources: list[Path] = []
        self.bodies: list[bytes] = []

    def process(self, stream: TableStream) -> TableStream:
        self.sources = [Path(s) for s in stream.metadata["sources"]]
        self.bodies = [p.read_bytes() for p in self.sources]
        return stream


@pytest.mark.slow
def test_listener_imports_from_spool_files_and_removes_them(
        broker_url: str, sqlite_target: str, tmp_path: Path,
        make_stream: Callable[..., TableStream],
        count_rows: Callable[[str, str], int]) -> None:
    parts = write_packets(make_stream("t", 3000), tmp_path / "p.tdtp.xml", part_size=20_000)
    assert len(parts) > 2
    send_packets(parts, broker_url)
    spool_dir = tmp_path / "spool"
    watch = _Watch()
    stats = listen(broker_url, sqlite_target, create=True, idle_timeout=3,
                   processors=[watch], spool_dir=spool_dir, handle_signals=False)
    assert stats.sets_imported == 1 and count_rows(sqlite_target, "t") == 3000
    # The import read the parts from files under the spool, byte for byte as sent …
    assert all(spool_dir in p.parents for p in watch.sources)
    assert watch.bodies == [p.read_bytes() for p in parts]
    # … and they are gone once the set is acknowledged; the run leaves nothing.
    assert not any(p.exists() for p in watch.sources)
    assert list(spool_dir.iterdir()) == []
