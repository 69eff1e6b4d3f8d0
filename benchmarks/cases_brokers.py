"""SQLite → broker → PostgreSQL against SQLite → packet files → PostgreSQL (issue #6).

    python -m benchmarks.harness brokers --rows 1000000

Candidates (one per broker): ``tdtp listen BROKER_URL PG_URL --create --idle-timeout 60``
started first, then ``tdtp export src.db t --to BROKER_URL``; the time runs from the
start until every row is committed in PostgreSQL (the case polls the target's import
ledger every 50 ms, then counts the table). The listener is stopped (SIGTERM), checked
and the rows counted again after the timed part; the idle timeout is only a safety net
(the exporter publishes once every part is written, which can take longer than a few
seconds on a busy machine).
Baseline: ``tdtp export src.db t -o FILE`` then ``tdtp import FILE… PG_URL --create``,
then one count of the table. All four are the CLI, in subprocesses, so both sides pay
the same start-up.

RabbitMQ is ``TDTP_BENCH_AMQP_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/%2F``),
with a fresh queue per run. Kafka is ``TDTP_BENCH_KAFKA_BOOTSTRAP`` (``host:port``), else
a Tansu broker with in-memory storage started once for the suite by :func:`prepare`
(outside every timed part) and stopped when the harness exits; a fresh topic and group
per run. PostgreSQL is ``TDTP_BENCH_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``), with a fresh target table per run,
dropped after the timed part (with the queue or topic). The target's import ledger is
left as it is.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.datagen import SCHEMA, rows
from benchmarks.harness import case

PAIRS = [
    ("rabbitmq_export_listen", "file_export_import"),
    ("kafka_export_listen", "file_export_import"),
]
TABLE = "t"
PG_URL = os.environ.get("TDTP_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
AMQP_URL = os.environ.get("TDTP_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
KAFKA_ENV = "TDTP_BENCH_KAFKA_BOOTSTRAP"
TIMEOUT = 600.0
IDLE = 60
#: The ``tdtp`` of the interpreter running the harness (``.venv/bin/python -m …`` works
#: without activating the virtualenv).
_BESIDE = Path(sys.executable).with_name("tdtp")
TDTP = str(_BESIDE) if _BESIDE.is_file() else "tdtp"


def _src(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'src.db'}"


def prepare(workdir: Path, n: int) -> None:
    from tdtp_core import TableStream
    from tdtp_core.plugins import get_host

    src = get_host().adapter_for_url(_src(workdir))
    src.write(TableStream.from_rows(SCHEMA, rows(n), table=TABLE), create=True,
              strategy="copy")
    src.close()
    if not os.environ.get(KAFKA_ENV):
        _start_tansu(workdir)


def _start_tansu(workdir: Path) -> None:
    """One Tansu for the whole suite, so no case pays its start-up. The cases run in
    child processes, which find it through the environment they inherit."""
    from tdtp_core.testing.brokers import tansu_broker

    stack = contextlib.ExitStack()
    os.environ[KAFKA_ENV] = stack.enter_context(tansu_broker(workdir / "tansu.log"))
    atexit.register(stack.close)


def _unique() -> str:
    return f"tdtp_bench_{uuid.uuid4().hex[:12]}"


def _count(conn: Any, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (table,))
        row = cur.fetchone()
        if row is None or row[0] is None:
            return 0
        cur.execute(f'SELECT count(*) FROM "{table}"')
        found = cur.fetchone()
        return int(found[0]) if found else 0


def _drop(table: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{table}"')


def _tdtp(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([TDTP, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kwargs)


def _check(proc: subprocess.Popen[bytes], what: str) -> None:
    _, err = proc.communicate()
    if proc.returncode not in (0, -signal.SIGTERM):
        raise RuntimeError(f"{what} exited {proc.returncode}: {err.decode(errors='replace')}")


@case("file_export_import")
def file_export_import(workdir: Path, n: int) -> Any:
    """``tdtp export src.db t -o out.tdtp.xml`` + ``tdtp import out*.tdtp.xml PG --create``."""
    table = _unique()
    out = workdir / "files"
    out.mkdir(exist_ok=True)
    try:
        export = _tdtp("export", _src(workdir), TABLE, "-o", str(out / "out.tdtp.xml"))
        _check(export, "tdtp export")
        parts = sorted(str(p) for p in out.glob("out.tdtp*.xml"))
        imp = _tdtp("import", *parts, PG_URL, "--table", table, "--create")
        _check(imp, "tdtp import")
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            got = _count(conn, table)
        if got != n:
            raise RuntimeError(f"{got} rows imported, expected {n}")
        return {"parts": len(parts), "rows": got}
    finally:
        for p in out.glob("*"):
            p.unlink()
        atexit.register(_drop, table)


@case("rabbitmq_export_listen")
def rabbitmq_export_listen(workdir: Path, n: int) -> Any:
    """``tdtp listen AMQP PG --create --idle-timeout 60`` + ``tdtp export src.db t --to
    AMQP``, until the last row is committed."""
    table = _unique()
    return _export_listen(workdir, n, "rabbitmq_export_listen", table,
                          f"{AMQP_URL}?queue={table}", lambda: _delete_queue(table))


@case("kafka_export_listen")
def kafka_export_listen(workdir: Path, n: int) -> Any:
    """``tdtp listen KAFKA PG --create --idle-timeout 60`` + ``tdtp export src.db t --to
    KAFKA`` (a fresh topic and group), until the last row is committed."""
    bootstrap = os.environ.get(KAFKA_ENV)
    if not bootstrap:
        raise RuntimeError(f"no Kafka broker: {KAFKA_ENV} is not set (prepare starts one)")
    table = _unique()
    return _export_listen(workdir, n, "kafka_export_listen", table,
                          f"kafka://{bootstrap}/{table}?group={table}",
                          lambda: _delete_topic(bootstrap, table))


def _export_listen(workdir: Path, n: int, name: str, table: str, broker: str,
                   cleanup: Callable[[], None]) -> Any:
    """The timed part shared by the broker cases: listener first, then the export, until
    the ledger shows the set and the table holds every row."""
    import psycopg

    listen = _tdtp("listen", broker, PG_URL, "--table", table, "--create",
                   "--idle-timeout", str(IDLE))
    atexit.register(_stop_listener, name, listen, table, n, cleanup)
    export = _tdtp("export", _src(workdir), TABLE, "--to", broker)
    deadline = time.monotonic() + TIMEOUT
    got = 0
    exported = False
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        while got < n:
            if not exported and export.poll() is not None:
                _check(export, "tdtp export")
                exported = True
            if listen.poll() is not None:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{got} of {n} rows after {TIMEOUT} s")
            time.sleep(0.05)
            if _ledgered(conn, table):
                got = _count(conn, table)
    if not exported:
        _check(export, "tdtp export")
    # The listener's own high-water RSS, while it still runs (it is waited for only
    # after the timed part, so RUSAGE_CHILDREN does not see it).
    return {"rows": got, "listen_peak_mb": _vmhwm_mb(listen.pid)}


def _ledgered(conn: Any, table: str) -> bool:
    """Whether the target's import ledger records a set for ``table``: cheap to ask,
    where counting the table would scan the rows of the import still in progress."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('tdtp_import_ledger')")
        row = cur.fetchone()
        if row is None or row[0] is None:
            return False
        cur.execute("SELECT 1 FROM tdtp_import_ledger WHERE table_name = %s LIMIT 1",
                    (table,))
        return cur.fetchone() is not None


def _vmhwm_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _stop_listener(name: str, listen: subprocess.Popen[bytes], table: str, n: int,
                   cleanup: Callable[[], None]) -> None:
    """After the timed part (the harness has printed the result): stop the listener
    (SIGTERM: it finishes the current set, then exits), check it, count the rows, clean
    up. A failure here still fails the run, through the exit code, after the clean-up
    (``os._exit`` would skip a ``finally``)."""
    failure: Exception | None = None
    try:
        if listen.poll() is None:
            listen.send_signal(signal.SIGTERM)
        _check(listen, "tdtp listen")
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            got = _count(conn, table)
        if got != n:
            raise RuntimeError(f"{got} rows imported, expected {n}")
    except Exception as exc:
        failure = exc
    finally:
        if listen.poll() is None:
            listen.kill()
            listen.wait()
        _drop(table)
        cleanup()
    if failure is not None:
        sys.stderr.write(f"{name}: {failure}\n")
        sys.stderr.flush()
        os._exit(1)


def _delete_queue(queue: str) -> None:
    """The run's queue and its dead-letter queue, so runs leave nothing behind."""
    try:
        import pika
    except ImportError:
        return
    params = pika.URLParameters(AMQP_URL)
    try:
        conn = pika.BlockingConnection(params)
    except Exception:
        return
    try:
        channel = conn.channel()
        for name in (queue, f"{queue}.dlq"):
            try:
                channel.queue_delete(name)
            except Exception:
                channel = conn.channel()
    finally:
        conn.close()


def _delete_topic(bootstrap: str, topic: str) -> None:
    """The run's topic and its dead-letter topic (best effort: Tansu keeps them in
    memory and goes away with the run anyway)."""
    try:
        from confluent_kafka.admin import AdminClient
    except ImportError:
        return
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics([topic, f"{topic}.dlq"],
                                      operation_timeout=10).values():
        with contextlib.suppress(Exception):
            future.result(timeout=15)
