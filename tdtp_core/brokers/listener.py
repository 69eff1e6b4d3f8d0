"""The listener: import complete packet sets from a broker, exactly once in effect.

For each message: collect it into its set (:class:`BatchAssembler`), its body written to
a spool file as it arrives so that memory does not grow with the set
(:mod:`tdtp_core.brokers.spool`); when the set is complete, check every body against its
hash header, read and verify the packets from those files, run the processors and import
the set in one transaction through the target's adapter, retried for transient failures
behind the target's circuit breaker. Then, and only then, the set's messages are
acknowledged (DECISIONS 13), and its files removed. So:

* a crash before the acknowledgement means redelivery, and the adapter's ledger turns the
  second import of the same MessageIDs into a no-op: nothing lost, nothing doubled;
* a set that cannot be imported (bad hash, bad packet, schema mismatch, constraint
  violation) goes whole, with the reason, to the dead-letter queue, and is acknowledged
  once the dead letter is safely stored;
* a target that is down (after retries, or with its circuit open) gets the set back in
  the queue unacknowledged; the listener waits and the broker delivers it again;
* a set incomplete for ``set_timeout`` seconds is dead-lettered whole, unless the
  target's ledger shows its parts were imported already (late duplicates of a set).

SIGINT/SIGTERM finish the set in hand, then stop; a second signal aborts.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from tdtp_core import audit
from tdtp_core.brokers import headers as H
from tdtp_core.brokers.assembler import BatchAssembler, PartSet
from tdtp_core.brokers.base import ack_all, dead_letter_url, reject_all
from tdtp_core.brokers.dlq import DeadLetterQueue, new_letter, open_dlq
from tdtp_core.brokers.spool import Spool
from tdtp_core.errors import BrokerError, ConfigError, PacketError, TdtpError
from tdtp_core.protocols import Adapter, Broker, ImportResult, Message, Processor
from tdtp_core.resilience import (
    CircuitOpenError,
    ResilienceConfig,
    breaker_for,
    endpoint_of,
    guard,
    is_transient,
)
from tdtp_core.sql.urls import mask_url

log = logging.getLogger("tdtp.brokers")

#: Sets settled recently, so that a late second copy of one of their parts is
#: acknowledged instead of starting a set that can never complete.
_RECENT = 4096


@dataclass
class ListenStats:
    """What a listener run did."""

    messages: int = 0
    sets_imported: int = 0
    sets_duplicate: int = 0
    sets_dead_lettered: int = 0
    sets_requeued: int = 0
    rows: int = 0
    stopped_by: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@contextmanager
def _signals(stop: threading.Event, enabled: bool) -> Iterator[None]:
    """SIGINT/SIGTERM ask for a clean stop; the second one aborts."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.warning("%s received: finishing the current set, then stopping "
                    "(again to abort)", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Listener:
    """One listener run; :func:`listen` is the convenient front door."""

    def __init__(
        self,
        broker_url: str,
        target_url: str,
        *,
        table: str | None = None,
        strategy: str = "replace",
        create: bool = False,
        max_messages: int | None = None,
        idle_timeout: float | None = None,
        processors: Sequence[Processor] | None = None,
        dlq: str | None = None,
        set_timeout: float | None = 300.0,
        resilience: ResilienceConfig | None = None,
        poll_interval: float = 1.0,
        stop_event: threading.Event | None = None,
        spool_dir: str | Path | None = None,
    ) -> None:
        from tdtp_core.plugins import get_host

        if max_messages is not None and max_messages <= 0:
            raise ConfigError("--max-messages must be positive")
        host = get_host()
        self.broker: Broker = host.broker_for_url(broker_url)
        self.adapter: Adapter = host.adapter_for_url(target_url)
        self.source = str(getattr(self.broker, "display_url", "") or mask_url(broker_url))
        self.target = mask_url(target_url)
        self.target_endpoint = endpoint_of(target_url)
        self.table = table
        self.strategy = strategy
        self.create = create
        self.max_messages = max_messages
        self.idle_timeout = idle_timeout
        self.processors = list(processors or ())
        self.dlq_location = dlq or dead_letter_url(self.broker)
        if not self.dlq_location:
            raise ConfigError(f"the broker at {self.source} has no dead-letter queue of its "
                              "own: give one (--dlq DIR or URL)")
        self._dlq: DeadLetterQueue | None = None
        self.resilience = resilience or ResilienceConfig()
        #: Bodies of the sets in hand, on disk (created on first use under ``spool_dir``,
        #: default the system's temporary directory; removed when the run ends).
        self.spool = Spool(spool_dir)
        self.assembler = BatchAssembler(set_timeout, spool=self.spool)
        self.poll_interval = poll_interval
        self.stop = stop_event or threading.Event()
        self.stats = ListenStats()
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._requeues = 0

    # ----------------------------------------------------------------------- loop

    def run(self, *, handle_signals: bool = True) -> ListenStats:
        log.info("listening on %s, importing into %s", self.source, self.target)
        with _signals(self.stop, handle_signals):
            try:
                self._loop()
            finally:
                self._shutdown()
        return self.stats

    def _limit_reached(self) -> bool:
        return self.max_messages is not None and self.stats.messages >= self.max_messages

    def _loop(self) -> None:
        last = time.monotonic()
        reconnect = 1.0
        while True:
            if self.stop.is_set():
                self.stats.stopped_by = "signal"
                return
            if self._limit_reached():
                self.stats.stopped_by = "max-messages"
                return
            got = False
            try:
                for message in self.broker.consume(timeout=self.poll_interval):
                    got = True
                    last = time.monotonic()
                    self.stats.messages += 1
                    self._take(message)
                    self._expire()
                    if self.stop.is_set() or self._limit_reached():
                        break
                reconnect = 1.0
            except BrokerError as exc:
                if not is_transient(exc):
                    raise
                # Deliveries not yet acknowledged come again once the broker is back.
                for part_set in self.assembler.drain():
                    part_set.release()
                log.warning("receive failed, retrying in %.0fs: %s", reconnect, exc)
                self.stop.wait(reconnect)
                reconnect = min(reconnect * 2, 30.0)
                continue
            self._expire()
            idle = time.monotonic() - last
            if not got and self.idle_timeout is not None and idle >= self.idle_timeout:
                self.stats.stopped_by = "idle-timeout"
                return

    def _shutdown(self) -> None:
        leftovers = self.assembler.drain()
        try:
            if leftovers:
                log.warning("%d incomplete set(s) left in the queue for the next run: %s",
                            len(leftovers), ", ".join(s.batch_id for s in leftovers))
                reject_all(self.broker, (m for s in leftovers for m in s.messages),
                           requeue=True)
        except BrokerError as exc:
            log.warning("could not return incomplete sets to the queue (the broker "
                        "redelivers them anyway): %s", exc)
        finally:
            for part_set in leftovers:
                part_set.release()
            self.spool.close()
            self.broker.close()
            self.adapter.close()
            if self._dlq is not None:
                self._dlq.close()

    # --------------------------------------------------------------------- messages

    def _take(self, message: Message) -> None:
        try:
            key = H.part_key(message.body, message.headers)
        except PacketError as exc:
            self._dead_letter_message(message, exc)
            return
        if key.batch_id in self._recent:
            log.info("second copy of %s (set already settled): acknowledged",
                     key.message_id)
            self._ack([message])
            return
        try:
            complete = self.assembler.add(message, key)
        except PacketError as exc:
            self._dead_letter_message(message, exc)
            return
        if complete is not None:
            try:
                self._settle(complete)
            finally:
                complete.release()

    def _expire(self) -> None:
        for part_set in self.assembler.expired():
            try:
                self._expire_set(part_set)
            finally:
                part_set.release()

    def _expire_set(self, part_set: PartSet) -> None:
        if self._already_imported(part_set.message_ids):
            log.info("late copies of %s, already imported: acknowledged", part_set.batch_id)
            self._ack(part_set.messages)
            self._remember(part_set.batch_id)
            return
        missing = ", ".join(map(str, part_set.missing))
        error = PacketError(
            f"incomplete part set {part_set.batch_id}: part(s) {missing} of "
            f"{part_set.total} did not arrive within {self.assembler.timeout:.0f}s")
        self._dead_letter(part_set, error, kind="incomplete")

    def _already_imported(self, ids: Sequence[str]) -> bool:
        """Whether the target's import ledger holds every one of ``ids``."""
        engine = getattr(self.adapter, "engine", None)
        if engine is None or not ids:
            return False
        import sqlalchemy as sa

        from tdtp_core.sql import ledger

        try:
            with engine.connect() as conn:
                return set(ids) <= ledger.imported(conn, ids)
        except sa.exc.SQLAlchemyError:
            return False

    def _remember(self, batch_id: str) -> None:
        self._recent[batch_id] = None
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    # ------------------------------------------------------------------------- sets

    def _import(self, part_set: PartSet) -> ImportResult:
        from tdtp_core.packet import read_packets
        from tdtp_core.packet.rejects import table_rows

        stream = table_rows(read_packets(*part_set.sources))  # before the processors
        for processor in self.processors:
            stream = processor.process(stream)
        return self.adapter.write(stream, table=self.table, strategy=self.strategy,
                                  create=self.create)

    def _settle(self, part_set: PartSet) -> None:
        entry = audit.AuditEntry("import", source=self.source, target=self.target,
                                 table=self.table or part_set.table,
                                 message_ids=part_set.message_ids,
                                 details={"strategy": self.strategy,
                                          "parts": part_set.total})
        for n, (key, message) in part_set.parts.items():
            entry.hashes[key.message_id] = (message.headers.get(H.PACKET_XXH3)
                                            or message.headers.get(H.BODY_XXH3)
                                            or part_set.body_hash(n))
        start = time.monotonic()
        try:
            part_set.check_bodies()
            result = guard(self.target_endpoint, lambda: self._import(part_set),
                           self.resilience, what=f"import of {part_set.batch_id}",
                           stop_event=self.stop)
        except TdtpError as exc:
            entry.duration_ms = (time.monotonic() - start) * 1000
            if is_transient(exc) or isinstance(exc, CircuitOpenError):
                entry.fail(exc, "requeued")
                audit.get_log().record(entry)
                self._requeue(part_set, exc)
            else:
                self._dead_letter(part_set, exc, kind=exc.kind, entry=entry)
            return
        entry.duration_ms = (time.monotonic() - start) * 1000
        self._ack(part_set.messages)
        self._remember(part_set.batch_id)
        self._requeues = 0
        entry.table = result.table
        if result.skipped_duplicate:
            entry.outcome, entry.rows = "duplicate", 0
            self.stats.sets_duplicate += 1
            log.info("%s: already imported, acknowledged", part_set.batch_id)
        else:
            entry.rows = result.rows
            self.stats.sets_imported += 1
            self.stats.rows += result.rows
            log.info("%s: imported %d row(s) into %s", part_set.batch_id, result.rows,
                     result.table)
        audit.get_log().record(entry)

    def _ack(self, messages: Sequence[Message]) -> None:
        """Acknowledge; a failure only means the broker delivers again (a no-op import)."""
        try:
            ack_all(self.broker, messages)
        except BrokerError as exc:
            log.warning("acknowledgement failed, the set will be delivered again and "
                        "skipped as a duplicate: %s", exc)

    def _requeue(self, part_set: PartSet, exc: TdtpError) -> None:
        self.stats.sets_requeued += 1
        self._requeues += 1
        log.warning("%s: target unavailable, left in the queue: %s", part_set.batch_id, exc)
        try:
            reject_all(self.broker, part_set.messages, requeue=True)
        except BrokerError as err:
            log.warning("could not return %s to the queue (redelivered anyway): %s",
                        part_set.batch_id, err)
        breaker = breaker_for(self.target_endpoint, self.resilience.breaker)
        policy = self.resilience.retry
        backoff = min(policy.max_wait, policy.initial_wait * 2 ** min(self._requeues, 16))
        self.stop.wait(min(max(breaker.retry_after(), backoff, 0.1), 30.0))

    @property
    def dlq(self) -> DeadLetterQueue:
        if self._dlq is None:
            assert self.dlq_location is not None
            self._dlq = open_dlq(self.dlq_location)
        return self._dlq

    def _dead_letter(self, part_set: PartSet, exc: TdtpError, *, kind: str,
                     entry: audit.AuditEntry | None = None) -> None:
        letter = new_letter(part_set.part_bodies, reason=str(exc), kind=kind,
                            source=self.source, table=part_set.table,
                            batch_id=part_set.batch_id, message_ids=part_set.message_ids)
        entry = entry or audit.AuditEntry("import", source=self.source, target=self.target,
                                          table=part_set.table,
                                          message_ids=part_set.message_ids)
        entry.details["dead_letter"] = letter.id
        try:
            guard(endpoint_of(self.dlq_location or ""), lambda: self.dlq.put(letter),
                  self.resilience, what=f"dead-lettering {part_set.batch_id}",
                  stop_event=self.stop)
        except TdtpError as err:
            entry.fail(err, "requeued")
            audit.get_log().record(entry)
            log.error("%s cannot be imported (%s) nor dead-lettered (%s): left in the queue",
                      part_set.batch_id, exc, err)
            self._requeue(part_set, err)
            return
        entry.fail(exc, "dead-lettered")
        audit.get_log().record(entry)
        self._ack(part_set.messages)
        self._remember(part_set.batch_id)
        self.stats.sets_dead_lettered += 1
        log.error("%s dead-lettered as %s: %s", part_set.batch_id, letter.id, exc)

    def _dead_letter_message(self, message: Message, exc: TdtpError) -> None:
        """A message that is not a readable packet part: dead-lettered alone."""
        part_set = PartSet(f"message-{H.body_hash(message.body)[:16]}", 1, "", 0.0)
        part_set.parts[1] = (H.PartKey("", part_set.batch_id, 1, 1, ""), message)
        self._dead_letter(part_set, exc, kind=exc.kind)


def listen(
    broker_url: str,
    target_url: str,
    *,
    table: str | None = None,
    strategy: str = "replace",
    create: bool = False,
    max_messages: int | None = None,
    idle_timeout: float | None = None,
    processors: Sequence[Processor] | None = None,
    dlq: str | None = None,
    set_timeout: float | None = 300.0,
    resilience: ResilienceConfig | None = None,
    stop_event: threading.Event | None = None,
    handle_signals: bool = True,
    spool_dir: str | Path | None = None,
) -> ListenStats:
    """Import every complete packet set arriving at ``broker_url`` into ``target_url``.

    Runs until SIGINT/SIGTERM (or ``stop_event``), ``max_messages`` messages, or
    ``idle_timeout`` seconds without a message. ``dlq`` defaults to the broker's own
    dead-letter queue (``<queue>.dlq`` / ``<topic>.dlq``). Parts wait for their set in
    files under ``spool_dir`` (default: the system's temporary directory).
    """
    return Listener(
        broker_url, target_url, table=table, strategy=strategy, create=create,
        max_messages=max_messages, idle_timeout=idle_timeout, processors=processors,
        dlq=dlq, set_timeout=set_timeout, resilience=resilience, stop_event=stop_event,
        spool_dir=spool_dir,
    ).run(handle_signals=handle_signals)
