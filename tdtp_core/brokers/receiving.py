"""``tdtp receive``: write the packets waiting on a broker to files.

Each part is written under a name derived from its table and set (``orders_REF-2026-…
.tdtp_part_2_of_5.xml``), atomically and synced, and only then acknowledged. The names
are stable, so a set whose parts arrive over several runs completes in the directory,
and a part delivered twice simply rewrites the same file.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tdtp_core import audit
from tdtp_core.brokers import headers as H
from tdtp_core.errors import ConfigError, TdtpError
from tdtp_core.protocols import Message

log = logging.getLogger("tdtp.brokers")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class ReceiveResult:
    files: list[Path] = field(default_factory=list)
    messages: int = 0
    damaged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"messages": self.messages, "damaged": self.damaged,
                "files": [str(p) for p in self.files]}


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "packet"


def file_name(key: H.PartKey) -> str:
    base = f"{_safe(key.table)}_{_safe(key.batch_id)}" if key.table else _safe(key.batch_id)
    if key.total > 1:
        return f"{base}.tdtp_part_{key.part}_of_{key.total}.xml"
    return f"{base}.tdtp.xml"


def _write(path: Path, body: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def receive(broker_url: str, out_dir: str | os.PathLike[str], *,
            max_messages: int | None = None, idle_timeout: float = 5.0,
            stop_event: threading.Event | None = None) -> ReceiveResult:
    """Write every message until ``idle_timeout`` seconds pass without one (or
    ``max_messages``); a body that fails its hash header is kept as ``*.damaged.xml``."""
    from tdtp_core.plugins import get_host
    from tdtp_core.sql.urls import mask_url

    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    broker = get_host().broker_for_url(broker_url)
    source = str(getattr(broker, "display_url", "") or mask_url(broker_url))
    result = ReceiveResult()
    stop = stop_event or threading.Event()
    try:
        for message in broker.consume(timeout=idle_timeout):
            result.messages += 1
            path = _save(message, directory, result)
            with audit.operation("receive", source=source, target=str(path)) as entry:
                key = _key_or_none(message)
                if key is not None:
                    entry.table, entry.message_ids, entry.rows = (
                        key.table, [key.message_id], key.rows)
                    entry.hashes[key.message_id] = H.body_hash(message.body)
                if path.name.endswith(".damaged.xml"):
                    entry.outcome = "damaged"
                broker.ack(message)
            if stop.is_set() or (max_messages is not None and result.messages >= max_messages):
                break
    finally:
        broker.close()
    return result


def _key_or_none(message: Message) -> H.PartKey | None:
    try:
        return H.part_key(message.body, message.headers)
    except TdtpError:
        return None


def _save(message: Message, directory: Path, result: ReceiveResult) -> Path:
    key = _key_or_none(message)
    digest = H.body_hash(message.body)
    name = file_name(key) if key is not None else f"unreadable_{digest[:16]}.xml"
    try:
        H.check_body(message.body, message.headers, name)
    except TdtpError as exc:
        log.warning("%s", exc)
        result.damaged += 1
        name = f"{name.removesuffix('.xml')}.{digest[:8]}.damaged.xml"
    path = directory / name
    _write(path, message.body)
    result.files.append(path)
    return path
