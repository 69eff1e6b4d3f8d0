"""Part bodies on disk while their set waits, so a listener's memory does not grow with
the table.

A listener holds every part of a set unacknowledged until the whole set is imported.
Holding the bodies in memory made its size grow with the set; instead each body is
written to a file as it arrives (one directory per set inside the run's spool), the
import reads the files (the packet reader streams them) and the set's directory is
removed once the set is settled. Nothing here has to survive a crash: the broker keeps
every unacknowledged message and delivers it again, so the files are neither synced nor
reused.

A run's directory is locked (``flock``) while the run lives; the next run removes
directories whose lock is free, left behind by a listener that was killed, so repeated
crashes do not fill the disk. Names are unique, so a leftover never collides with a new
run either way.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from tdtp_core.brokers.headers import body_hash
from tdtp_core.errors import TdtpError

#: Prefix of every run's directory; a new run sweeps abandoned ones by it.
PREFIX = "tdtp-listen-"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SpooledBody:
    """One part's body on disk, with its hash (taken while writing) so the listener can
    check and audit it without reading it back."""

    path: Path
    xxh3: str

    def read(self) -> bytes:
        return self.path.read_bytes()


class SpooledBodies(Sequence[bytes]):
    """Bodies read back one at a time, when asked for: a dead letter of a large set is
    stored part by part instead of being loaded whole."""

    def __init__(self, files: Sequence[SpooledBody]) -> None:
        self._files = list(files)

    def __len__(self) -> int:
        return len(self._files)

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> SpooledBodies: ...

    def __getitem__(self, index: int | slice) -> bytes | SpooledBodies:
        if isinstance(index, slice):
            return SpooledBodies(self._files[index])
        return self._files[index].read()

    def __iter__(self) -> Iterator[bytes]:
        for spooled in self._files:
            yield spooled.read()


class Spool:
    """A listener run's spool directory, created on first use under ``parent`` (default:
    the system's temporary directory) and removed by :meth:`close`."""

    def __init__(self, parent: str | os.PathLike[str] | None = None) -> None:
        self.parent = Path(parent) if parent is not None else None
        self._path: Path | None = None
        self._lock: int | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            parent = self.parent or Path(tempfile.gettempdir())
            try:
                parent.mkdir(parents=True, exist_ok=True)
                sweep(parent)
                fresh = Path(tempfile.mkdtemp(prefix=f".{PREFIX}", dir=parent))
            except OSError as exc:
                raise _spool_error(parent, exc) from exc
            # Locked before it gets its sweepable name: no run ever sees it unlocked.
            lock = None
            try:
                lock = _lock(fresh)
                path = fresh.with_name(fresh.name[1:])
                fresh.rename(path)
            except OSError as exc:
                if lock is not None:
                    os.close(lock)
                shutil.rmtree(fresh, ignore_errors=True)
                raise _spool_error(parent, exc) from exc
            self._path, self._lock = path, lock
        return self._path

    def new_set(self, batch_id: str) -> Path:
        """A fresh directory for one set's bodies."""
        prefix = f"{_UNSAFE.sub('_', batch_id)[:48] or 'set'}-"
        try:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=self.path))
        except OSError as exc:
            raise _spool_error(self.path, exc) from exc

    def write(self, directory: Path, part: int, body: bytes) -> SpooledBody:
        """Store one body (not synced: the broker still holds the message)."""
        path = directory / f"part-{part:05d}.xml"
        try:
            with open(path, "wb") as fh:
                fh.write(body)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise _spool_error(directory, exc) from exc
        return SpooledBody(path, body_hash(body))

    def close(self) -> None:
        """Remove every body still spooled (their messages go back to the broker)."""
        path, self._path = self._path, None
        lock, self._lock = self._lock, None
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
        if lock is not None:
            os.close(lock)


def release(directory: Path | None) -> None:
    """Remove one set's bodies (after it is settled, requeued or dead-lettered)."""
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def sweep(parent: Path) -> list[Path]:
    """Remove the spools of runs that are gone (their lock is free); returns them."""
    removed: list[Path] = []
    if sys.platform == "win32":
        return removed  # no flock: a live run could not be told from a dead one
    for old in parent.glob(f"{PREFIX}*"):
        try:
            if old.is_symlink() or not old.is_dir() or (
                    hasattr(os, "getuid") and old.stat().st_uid != os.getuid()):
                continue
            lock = _lock(old)
        except OSError:
            continue  # in use by a live run, or not ours
        try:
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
        finally:
            if lock is not None:
                os.close(lock)
    return removed


def _lock(directory: Path) -> int | None:
    """An exclusive lock held as long as the returned descriptor is open (the kernel
    drops it when the process dies, however it dies). Raises ``OSError`` when another
    process holds it; ``None`` where there is no ``flock`` (nothing is swept there)."""
    if sys.platform == "win32":
        return None
    import fcntl

    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def _spool_error(where: Path, exc: OSError) -> TdtpError:
    """Not the message's fault (a full or read-only disk): the run stops, and the broker
    delivers what it held to the next one."""
    return TdtpError(f"cannot spool packet parts: {exc.strerror or exc}").at(str(where))
