"""Running a pipeline: extract in parallel, transform, process once, write every output.

Order of a run, and why:

1. Sources are read in parallel threads (at most ``performance.parallel_sources``); the
   rows come back through a bounded queue and only this thread writes the workspace, so
   memory stays bounded and SQLite has one writer. A failing source under ``skip`` is
   reported and left out; under ``fail`` the others are cancelled and nothing is written.
2. The transform steps run in the workspace, each into its result table.
3. The processors run on each table an output writes, exactly once, into a hidden table:
   a validation failure found on the last row still stops the run before any output.
4. Outputs: files are staged, databases imported (each atomically), brokers published;
   the staged files are renamed into place only when all of that succeeded. Broker
   sources are acknowledged last.

``dry_run`` does 1–3 and writes nothing (broker messages go back to the queue).
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tdtp_core.errors import AdapterError, BrokerError, PacketError, QueryError, TdtpError
from tdtp_core.packet.model import PipelineContext
from tdtp_core.pipeline.loader import Pipeline
from tdtp_core.pipeline.outputs import (
    BROKER_TYPES,
    FILE_TYPES,
    OutputSpec,
    Staging,
    Written,
    write_output,
)
from tdtp_core.pipeline.sources import Settle, SourceSpec, open_source, sqlite_file
from tdtp_core.pipeline.summary import OutputResult, RunSummary, SourceResult, StepResult
from tdtp_core.pipeline.workspace import Workspace
from tdtp_core.stream import Batch, TableStream
from tdtp_core.types import Schema

#: Prefix of the hidden tables holding processed results.
PROCESSED = "tdtp_out_"
#: Seconds a cancelled run waits for its extraction threads to notice.
_GRACE = 5.0

log = logging.getLogger("tdtp.pipeline")


class Progress(Protocol):
    """Receives per-source progress (the CLI draws bars with it)."""

    def start(self, name: str) -> None: ...

    def advance(self, name: str, rows: int) -> None: ...

    def finish(self, name: str, status: str) -> None: ...


class _Cancelled(Exception):
    """An extraction thread was told to stop."""


@dataclass
class _State:
    spec: SourceSpec
    result: SourceResult
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float | None = None
    insert: Callable[[Batch], None] | None = None
    settle: Settle | None = None
    error: TdtpError | None = None
    done: bool = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 1)


def _source_error(spec: SourceSpec, message: str) -> TdtpError:
    cls: type[TdtpError] = {"table": AdapterError, "query": AdapterError,
                            "broker": BrokerError}.get(spec.kind, PacketError)
    return cls(message)


class _Run:
    def __init__(self, pipeline: Pipeline, dry_run: bool, progress: Progress | None) -> None:
        self.p = pipeline
        self.dry_run = dry_run
        self.progress = progress
        self.summary = RunSummary(
            pipeline=pipeline.name, version=pipeline.version, file=str(pipeline.file),
            dry_run=dry_run, started_at=_now(),
            variables={n: v.text for n, v in pipeline.variables.items()},
            processors=[item.processor.name for item in pipeline.processors])
        self.states = [_State(s, SourceResult(s.name, s.kind, s.location))
                       for s in pipeline.sources]
        self.summary.sources = [st.result for st in self.states]
        self.summary.outputs = [OutputResult(o.index, o.type, o.target, o.result_table)
                                for o in pipeline.outputs]
        self.adapters: dict[str, Any] = {}
        self.stop = threading.Event()
        #: Outputs read the processed copies of the result tables (or the tables).
        self.output_prefix = PROCESSED
        #: Embedded in every output packet: name, version and the variables used.
        self.context = PipelineContext(pipeline.name, pipeline.version, tuple(sorted(
            (n, v.text) for n, v in pipeline.variables.items())))

    # --------------------------------------------------------------------------- run

    def run(self) -> RunSummary:
        start = time.monotonic()
        staging = Staging()
        workspace: Workspace | None = None
        succeeded = False
        try:
            workspace = Workspace(self.p.workspace_path, batch_size=self.p.batch_size)
            self.extract(workspace)
            self.transform(workspace)
            self.process(workspace)
            if not self.dry_run:
                self.write(workspace, staging)
            succeeded = True
            self.summary.status = "succeeded"
        except TdtpError as exc:
            self.summary.fail(exc)
        finally:
            staging.discard()
            self.settle(acknowledge=succeeded and not self.dry_run)
            for adapter in self.adapters.values():
                adapter.close()
            if workspace is not None:
                workspace.close()
            self.summary.finished_at = _now()
            self.summary.duration_ms = _ms(start)
        return self.summary

    def settle(self, *, acknowledge: bool) -> None:
        for st in self.states:
            if st.settle is None:
                continue
            settle, st.settle = st.settle, None
            if acknowledge:
                settle.ack()
            else:
                settle.release()

    # ----------------------------------------------------------------------- extract

    def extract(self, workspace: Workspace) -> None:
        events: queue.Queue[tuple[str, int, Any]] = queue.Queue(maxsize=4 * self.p.parallel)
        workers = max(1, min(self.p.parallel, len(self.states)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tdtp-source")
        futures = [pool.submit(self._produce, i, events) for i in range(len(self.states))]
        workspace.begin()
        try:
            failure = self._consume(workspace, events)
        finally:
            self.stop.set()
            self._drain(events, futures)
            pool.shutdown(wait=False, cancel_futures=True)
            workspace.commit()
        if failure is not None:
            for st in self.states:
                if st.result.status == "pending":
                    st.result.status = "cancelled"
            raise failure

    def _produce(self, index: int, events: queue.Queue[tuple[str, int, Any]]) -> None:
        """One extraction thread: events start, schema (again on a retry), rows, done."""
        st = self.states[index]
        spec = st.spec

        def put(kind: str, payload: Any) -> None:
            while True:
                if st.cancel.is_set() or self.stop.is_set():
                    raise _Cancelled
                try:
                    events.put((kind, index, payload), timeout=0.2)
                    return
                except queue.Full:
                    continue

        def wait(copied: Future[int | None]) -> int | None:
            while True:
                try:
                    return copied.result(timeout=0.2)
                except TimeoutError:
                    if st.cancel.is_set() or self.stop.is_set():
                        raise _Cancelled from None

        def attempt() -> Settle | None:
            opened = open_source(spec, self.p.variables, batch_size=self.p.batch_size,
                                 adapters=self.adapters, should_stop=st.cancel.is_set)
            path = sqlite_file(spec, self.adapters)
            if path is not None:  # the workspace may copy it inside SQLite
                copied: Future[int | None] = Future()
                put("copy", (opened.stream.schema, path, copied))
                if wait(copied) is not None:
                    return None
            try:
                put("schema", opened.stream.schema)
                for batch in opened.stream.batches():
                    put("rows", batch)
            except BaseException:
                if opened.settle is not None:
                    opened.settle.release()
                raise
            return opened.settle

        try:
            put("start", None)
            endpoint = spec.endpoint
            if endpoint is None:
                settle = attempt()
            else:
                from tdtp_core.resilience import guard

                settle = guard(endpoint, attempt, self.p.resilience,
                               what=f"source {spec.name!r}", stop_event=st.cancel)
            try:
                put("done", settle)
            except _Cancelled:
                if settle is not None:
                    settle.release()
        except _Cancelled:
            return
        except BaseException as exc:  # reported to the consuming thread, which decides
            if isinstance(exc, OSError):  # a reader that let a file error through
                exc = _source_error(spec, f"{spec.location}: {exc.strerror or exc}")
            try:
                put("error", exc)
            except _Cancelled:
                return

    def _consume(self, workspace: Workspace, events: queue.Queue[tuple[str, int, Any]]
                 ) -> TdtpError | None:
        """Load the rows the threads send; the error that must end the run, if any."""
        while True:
            self._check_deadlines(workspace)
            failed = next((st.error for st in self.states if st.result.status == "failed"),
                          None)
            if failed is not None:
                return failed
            if all(st.done for st in self.states):
                return None
            try:
                kind, index, payload = events.get(timeout=0.2)
            except queue.Empty:
                continue
            st = self.states[index]
            if st.done:  # timed out or failed already: late events are dropped
                if kind == "done" and payload is not None:
                    payload.release()
                continue
            self._event(workspace, st, kind, payload)

    def _event(self, workspace: Workspace, st: _State, kind: str, payload: Any) -> None:
        name = st.spec.name
        if kind == "start":
            st.started = time.monotonic()
            if self.progress is not None:
                self.progress.start(name)
        elif kind == "schema":
            schema: Schema = payload
            workspace.create(name, schema)
            st.insert = workspace.inserter(name)
            st.result.rows = 0
        elif kind == "copy":
            schema, path, copied = payload
            workspace.create(name, schema)
            try:
                rows = workspace.copy_sqlite(name, path, st.spec.table, schema.names)
            except BaseException as problem:
                copied.set_exception(problem)
                raise
            copied.set_result(rows)
            if rows is not None:
                st.result.rows = rows
                if self.progress is not None:
                    self.progress.advance(name, rows)
        elif kind == "rows":
            assert st.insert is not None
            st.insert(payload)
            st.result.rows += len(payload)
            if self.progress is not None:
                self.progress.advance(name, len(payload))
        elif kind == "done":
            st.done = True
            st.settle = payload
            self._finish(st, "loaded")
        else:
            exc = payload if isinstance(payload, TdtpError) else None
            if exc is None:
                raise payload  # a bug in a reader: keep its traceback
            self._failed(workspace, st, exc)

    def _finish(self, st: _State, status: str) -> None:
        st.result.status = status
        if st.started is not None:
            st.result.duration_ms = _ms(st.started)
        if self.progress is not None:
            self.progress.finish(st.spec.name, status)

    def _failed(self, workspace: Workspace, st: _State, exc: TdtpError) -> None:
        st.done = True
        st.cancel.set()
        workspace.drop(st.spec.name)
        st.result.rows = 0
        st.result.error = str(exc)
        st.error = exc.at(f"source {st.spec.name!r} ({st.spec.where})")
        self._finish(st, "skipped" if st.spec.on_error == "skip" else "failed")

    def _check_deadlines(self, workspace: Workspace) -> None:
        now = time.monotonic()
        for st in self.states:
            timeout = st.spec.timeout
            if (st.done or st.started is None or timeout is None or st.spec.kind == "broker"
                    or now - st.started <= timeout):
                continue
            self._failed(workspace, st, _source_error(
                st.spec, f"took longer than its timeout of {timeout:g}s"))

    def _drain(self, events: queue.Queue[tuple[str, int, Any]], futures: list[Future[None]]
               ) -> None:
        """Let the stopped threads finish (for a while) and give back any broker set that
        one of them delivered after the run stopped listening."""
        deadline = time.monotonic() + _GRACE
        while True:
            finished = all(f.done() for f in futures)
            try:
                kind, _, payload = events.get(timeout=0.05)
            except queue.Empty:
                if finished or time.monotonic() > deadline:
                    return
                continue
            if kind == "done" and payload is not None:
                payload.release()

    # --------------------------------------------------------------------- transform

    def transform(self, workspace: Workspace) -> None:
        params = workspace.bind({n: (v.field, v.value) for n, v in self.p.variables.items()})
        deadline = time.monotonic() + self.p.transform_timeout
        skipped = {st.spec.name.casefold(): st for st in self.states
                   if st.result.status == "skipped"}
        for step in self.p.steps:
            result = StepResult(step.result_table)
            self.summary.transform.append(result)
            start = time.monotonic()
            try:
                result.rows = workspace.run_step(step, params, deadline=deadline)
            except QueryError as exc:
                missing = exc.message.removeprefix("no such table: ").casefold()
                if missing in skipped:
                    exc.message += f" (source {skipped[missing].spec.name!r} was skipped: " \
                                   f"{skipped[missing].result.error})"
                raise
            result.duration_ms = _ms(start)

    # --------------------------------------------------------------------- processors

    def process(self, workspace: Workspace) -> None:
        """Run the processors once per result table into a hidden copy, so a failure on
        the last row stops the run before any output. Without processors the outputs
        read the result tables themselves."""
        from tdtp_core.processors import ProcessorChain, apply

        if self.p.processors:
            chain = ProcessorChain([item.processor for item in self.p.processors])
            for table in dict.fromkeys(o.result_table for o in self.p.outputs):
                try:
                    rows = workspace.store(PROCESSED + table,
                                           apply(workspace.read(table), chain))
                except TdtpError as exc:
                    raise exc.at(self._processor_where(exc)) from None
                self.summary.processed_rows[table] = rows
        else:
            self.output_prefix = ""
        if self.dry_run:
            for out in self.summary.outputs:
                out.status = "dry run"
                out.rows = workspace.count(self.output_prefix + out.result_table)

    def _processor_where(self, exc: TdtpError) -> str:
        origin = getattr(exc, "origin", None)
        name = getattr(exc, "processor", None)
        for item in self.p.processors:
            if item.processor is origin:
                return item.where
        for item in self.p.processors:
            if item.processor.name == name:
                return item.where
        return "processors"

    # ------------------------------------------------------------------------ outputs

    def write(self, workspace: Workspace, staging: Staging) -> None:
        def order(index: int) -> int:
            kind = self.p.outputs[index].type
            return 0 if kind in FILE_TYPES else 2 if kind in BROKER_TYPES else 1

        done: list[OutputResult] = []
        for index in sorted(range(len(self.p.outputs)), key=order):
            spec = self.p.outputs[index]
            result = self.summary.outputs[index]
            start = time.monotonic()
            try:
                written = self._write_one(workspace, spec, staging, result)
            except TdtpError as exc:
                result.status, result.error = "failed", str(exc)
                result.duration_ms = _ms(start)
                for other in done:
                    if other.files:
                        other.status = "rolled back"
                raise
            result.status = "written" if result.fallback is None else "written to fallback"
            result.rows = written.rows
            result.files = [str(p) for p in written.files]
            result.hashes = written.hashes
            result.message_ids = written.message_ids
            result.duration_ms = _ms(start)
            done.append(result)
        staging.commit()


    def _write_one(self, workspace: Workspace, spec: OutputSpec, staging: Staging,
                   result: OutputResult) -> Written:
        """Write an output; when it fails and it has a fallback, write that instead
        (from the same processed table: processors still ran once)."""
        try:
            return self._write(workspace, spec, staging)
        except TdtpError as exc:
            fallback = spec.fallback
            if fallback is None:
                raise exc.at(f"output {spec.index + 1} ({spec.where})") from None
            log.warning("output %d (%s) failed, writing its fallback %s instead: %s",
                         spec.index + 1, spec.target, fallback.target, exc)
            result.fallback, result.primary_error = fallback.target, str(exc)
        try:
            return self._write(workspace, fallback, staging)
        except TdtpError as exc:
            raise exc.at(f"output {spec.index + 1} fallback ({fallback.where})") from None

    def _write(self, workspace: Workspace, spec: OutputSpec, staging: Staging) -> Written:
        table = self.output_prefix + spec.result_table
        spec.packet.setdefault("pipeline", self.context)
        return write_output(
            spec, functools.partial(_renamed, workspace, table, spec.result_table),
            staging=staging, resilience=self.p.resilience, source=f"pipeline {self.p.name}")


def _renamed(workspace: Workspace, table: str, name: str) -> TableStream:
    stream = workspace.read(table)
    stream.table = name
    return stream


def run_pipeline(pipeline: Pipeline, *, dry_run: bool = False,
                 progress: Progress | None = None) -> RunSummary:
    """Run (or dry-run) a loaded pipeline; the summary carries any error
    (``summary.raise_for_error()``)."""
    return _Run(pipeline, dry_run, progress).run()


# ---------------------------------------------------------------------- validation


@dataclass
class Check:
    """One validation finding: where, and the problem (None: fine)."""

    where: str
    what: str
    error: TdtpError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def validate_pipeline(pipeline: Pipeline, *, connect: bool = True) -> list[Check]:
    """Check what a run would meet without moving data: sources and outputs reachable,
    source schemas readable, the transform runs on empty tables of those schemas, and
    every processor accepts the tables it will see."""
    checks: list[Check] = []
    schemas: dict[str, Schema | None] = {}
    adapters: dict[str, Any] = {}
    try:
        for spec in pipeline.sources:
            schemas[spec.name] = _source_schema(spec, pipeline, adapters, checks, connect)
        unknown = [name for name, schema in schemas.items() if schema is None]
        if not unknown:
            checks.extend(_check_transform(pipeline, schemas))
        else:
            checks.append(Check("transform", f"not run: no schema known for "
                                             f"{', '.join(unknown)} (a broker source's comes "
                                             "with its packets; --offline reads none)"))
        for out in pipeline.outputs:
            checks.append(_check_output(out, connect))
            if out.fallback is not None:
                checks.append(_check_output(out.fallback, connect, role="fallback of output"))
    finally:
        for adapter in adapters.values():
            adapter.close()
    return checks


def _source_schema(spec: SourceSpec, pipeline: Pipeline, adapters: dict[str, Any],
                   checks: list[Check], connect: bool) -> Schema | None:
    where = f"source {spec.name!r} ({spec.where})"
    if spec.kind == "broker":
        if connect:
            checks.append(_reachable(where, spec.broker))
        return None
    if not connect and spec.kind != "file":
        return None
    schema: Schema
    try:
        if spec.kind == "table":
            from tdtp_core.plugins import get_host

            adapter = adapters.setdefault(spec.url, get_host().adapter_for_url(spec.url))
            getter = getattr(adapter, "schema", None)
            schema = getter(spec.table) if callable(getter) else adapter.inspect(
                spec.table).schema
        else:
            opened = open_source(spec, pipeline.variables, batch_size=1, adapters=adapters,
                                 should_stop=lambda: True)
            schema = opened.stream.schema
            batches = opened.stream.batches()
            next(batches, None)  # started, so closing it closes its connection
            _close(batches)
    except TdtpError as exc:
        checks.append(Check(where, spec.location, exc))
        return Schema()
    checks.append(Check(where, f"{spec.location}: {len(schema)} field(s)"))
    return schema


def _close(batches: Iterator[Batch]) -> None:
    close = getattr(batches, "close", None)
    if callable(close):
        close()


def _check_transform(pipeline: Pipeline, schemas: dict[str, Schema | None]) -> list[Check]:
    from tdtp_core.processors import ProcessorChain, apply

    checks: list[Check] = []
    workspace = Workspace(batch_size=pipeline.batch_size)
    try:
        for name, schema in schemas.items():
            if schema:
                workspace.create(name, schema)
        params = workspace.bind({n: (v.field, v.value) for n, v in pipeline.variables.items()})
        for step in pipeline.steps:
            try:
                workspace.run_step(step, params)
            except TdtpError as exc:
                checks.append(Check(f"transform ({step.where})", step.result_table, exc))
                return checks
            fields = ", ".join(f"{f.name} {f.type}" for f in workspace.schema(
                step.result_table))
            checks.append(Check(f"transform ({step.where})",
                                f"{step.result_table}: {fields}"))
        chain = ProcessorChain([item.processor for item in pipeline.processors])
        for table in dict.fromkeys(o.result_table for o in pipeline.outputs):
            if not workspace.has(table):
                continue
            try:
                apply(workspace.read(table), chain).rows()
            except TdtpError as exc:
                checks.append(Check("processors", table, exc))
                continue
            if pipeline.processors:
                checks.append(Check("processors", f"accept the fields of {table}"))
    finally:
        workspace.close()
    return checks


def _check_output(out: Any, connect: bool, role: str = "output") -> Check:
    import os

    where = f"{role} {out.index + 1} ({out.where})"
    if out.destination is not None:
        parent = out.destination.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not os.access(parent, os.W_OK):
            return Check(where, out.target, TdtpError(f"cannot write under {parent}"))
        return Check(where, f"{out.target}: writable")
    if not connect:
        return Check(where, f"{out.target}: not connected (offline)")
    if out.type in BROKER_TYPES:
        return _reachable(where, out.url)
    from tdtp_core.plugins import get_host

    try:
        adapter = get_host().adapter_for_url(out.url)
        try:
            tables = {t.casefold() for t in adapter.list_tables()}
        finally:
            adapter.close()
    except TdtpError as exc:
        return Check(where, out.target, exc)
    name = (out.table or out.result_table).casefold()
    if name not in tables and not out.create:
        return Check(where, out.target, AdapterError(
            f"table {out.table or out.result_table!r} does not exist (create: true creates "
            "it)"))
    return Check(where, f"{out.target}: reachable")


def _reachable(where: str, url: str) -> Check:
    """A TCP connection to a broker's first host: reachable without consuming anything."""
    import socket

    from tdtp_core.brokers.url import parse_broker_url

    ports = {"amqp": 5672, "amqps": 5671, "kafka": 9092}
    try:
        address = parse_broker_url(url, passthrough=True,
                                   known=("queue", "exchange", "routing_key", "prefetch",
                                          "heartbeat", "connect_timeout", "group"))
    except TdtpError as exc:
        return Check(where, url, exc)
    host, port = address.host, address.port or ports.get(address.scheme, 0)
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        return Check(where, address.display,
                     BrokerError(f"{address.display} is not reachable: {exc.strerror or exc}"))
    return Check(where, f"{address.display}: reachable")
