"""Ordered work across forked processes: the second core for a whole-table export.

A database fetch builds a Python object per value while holding the GIL, so threads do
not overlap it with encoding; processes do. :func:`run_ordered` forks workers that each
take every n-th task (a key range of the table), and yields the tasks' results in task
order, so the caller sees exactly the sequence one process would produce. A worker
sends one batch at a time through a pipe and blocks until it is read: memory stays
bounded by a batch per worker.

Workers first join a shared snapshot (``Job.open``) and say so; only then does the
parent let go of the anchor that pinned it, so every range is read from the same state
of the database. If a worker fails, its task is run again in this process, which raises
the real error with the right row numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import Any, Protocol, TypeVar

from tdtp_core.errors import AdapterError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

_READY, _ITEM, _DONE, _FAILED = "ready", "item", "done", "failed"
_F_SETPIPE_SZ = 1031
#: Pipe capacity asked for: about two batches of 5,000 encoded rows.
PIPE_BYTES = 1 << 20
#: Fewer rows than this are read in one process: forking would cost more than it saves.
MIN_ROWS = 100_000


class Job(Protocol[T_co]):
    """Tasks ``0 … tasks-1`` whose results, concatenated in order, are the whole."""

    tasks: int

    def open(self) -> None:
        """In a worker, before its first task: connect and join the shared snapshot."""

    def run(self, task: int, first_row: int) -> Iterator[T_co]:
        """The results of one task; ``first_row`` numbers rows in error messages."""
        ...


def available_workers() -> int:
    """Worker processes worth forking here: the cores this process may use, on Linux
    (where ``fork`` is safe and cheap), else 1 (no workers)."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    configured = os.environ.get("TDTP_WORKERS", "").strip()
    if configured.isdigit():
        return max(1, int(configured))
    return len(os.sched_getaffinity(0))


def _worker(job: Job[Any], index: int, workers: int, out: Connection,
            others: list[Connection]) -> None:
    for conn in others:
        conn.close()
    try:
        job.open()
        out.send((_READY,))
        for task in range(index, job.tasks, workers):
            for item in job.run(task, 0):
                out.send((_ITEM, item))
            out.send((_DONE,))
    except BaseException:  # reported to the parent, which reruns the task itself
        with suppress(OSError):
            out.send((_FAILED, traceback.format_exc()))
    finally:
        out.close()


def run_ordered(job: Job[T], workers: int, release: Callable[[], None],
                size: Callable[[T], int]) -> Iterator[T]:
    """The results of every task in order, computed by ``workers`` forked processes.

    ``release`` is called once all workers have opened (the anchor of the snapshot may
    go); ``size`` gives a result's row count, to number rows if a task is rerun here.
    """
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe(duplex=False) for _ in range(workers)]
    for _, send in pipes:
        _widen(send)
    procs = []
    try:
        for i, (_, send) in enumerate(pipes):
            others = [r for r, _ in pipes] + [s for j, (_, s) in enumerate(pipes) if j != i]
            proc = context.Process(target=_worker, args=(job, i, workers, send, others),
                                   daemon=True, name=f"tdtp-worker-{i}")
            proc.start()
            procs.append(proc)
        for _, send in pipes:
            send.close()
        receivers = [r for r, _ in pipes]
        opened = [_message(r) for r in receivers]
        release()
        failure = next((m for m in opened if m[0] != _READY), None)
        rows = task_rows = task = 0
        while failure is None and task < job.tasks:
            message = _message(receivers[task % workers])
            if message[0] == _ITEM:
                rows += size(message[1])
                yield message[1]
            elif message[0] == _DONE:
                task += 1
                task_rows = rows
            else:
                failure = message
        if failure is not None:
            _stop(procs)
            _rerun(job, min(task, job.tasks - 1), task_rows, _detail(failure))
    finally:
        _stop(procs)
        for r, _ in pipes:
            r.close()


def _widen(conn: Connection) -> None:
    """Let a pipe hold a whole batch (Linux): a worker then goes on encoding while its
    last batch waits, instead of trickling it through 64 KiB at a time."""
    import fcntl  # POSIX only, and workers run only on Linux

    with suppress(OSError):
        fcntl.fcntl(conn.fileno(), _F_SETPIPE_SZ, PIPE_BYTES)


def _message(conn: Connection) -> tuple[Any, ...]:
    try:
        message: tuple[Any, ...] = conn.recv()
    except (EOFError, OSError):
        return (_FAILED, "the worker process ended unexpectedly")
    return message


def _detail(message: tuple[Any, ...]) -> str:
    return str(message[1]).strip().splitlines()[-1] if len(message) > 1 else "unknown"


def _rerun(job: Job[Any], task: int, first_row: int, detail: str) -> None:
    """Run a failed worker's task here, where it raises the real error with the right
    row numbers; if it does not, the worker failed for another reason (it was killed,
    it could not connect) and the export stops rather than go on half-parallel."""
    for _ in job.run(task, first_row):
        pass
    raise AdapterError(f"a parallel export worker failed: {detail}")


def _stop(procs: list[Any]) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join()
    procs.clear()
