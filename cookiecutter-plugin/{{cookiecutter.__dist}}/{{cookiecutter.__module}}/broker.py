"""The ``{{ cookiecutter.name }}`` broker: a message queue kept in a directory.

An example to replace with a client for your broker. The URL names the queue's
directory: ``{{ cookiecutter.name }}:///var/spool/orders`` (absolute) or
``{{ cookiecutter.name }}://spool/orders`` (relative). Each message is one file.
``ready/`` holds the waiting messages in publishing order; a consumer claims one by
renaming it into ``claimed/`` (a rename succeeds for exactly one process, so several
may share a queue) and acknowledging deletes it. A message that is not acknowledged
goes back to ``ready/``, in its old place, when its consumer closes, when it is
rejected with ``requeue=True``, or when it has been claimed for longer than
``visibility`` seconds (``?visibility=300``, the default) by a consumer that died.
``reject(requeue=False)`` moves it to ``dead/``.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from tdtp_core.errors import BrokerError, ConfigError
from tdtp_core.protocols import Message

#: How often an idle consumer looks for new messages, in seconds.
POLL = 0.05


class {{ cookiecutter.__class }}:
    """``Cls(url)``: core builds one per URL whose scheme this plugin registered."""

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - {"visibility"}
        if unknown or not (parts.netloc or parts.path):
            raise ConfigError(f"expected {{ cookiecutter.name }}://DIRECTORY[?visibility=SECONDS], "
                              f"got {url!r}")
        try:
            self.visibility = float(options.get("visibility", 300))
        except ValueError:
            raise ConfigError(f"visibility must be a number of seconds: {url!r}") from None
        self.root = Path(unquote(parts.netloc + parts.path))
        self.ready, self.claimed, self.dead = (self.root / d for d in ("ready", "claimed", "dead"))
        try:
            for directory in (self.ready, self.claimed, self.dead):
                directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BrokerError(f"cannot open the queue {self.root}: {exc}") from None
        self._client = secrets.token_hex(4)
        self._serial = itertools.count()
        self._waiting: deque[str] = deque()
        self._mine: set[Path] = set()

    def publish(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Write the message under a temporary name, then rename it into ``ready/``:
        a consumer never sees half a message. Names sort in publishing order."""
        name = f"{time.time_ns():020d}-{self._client}-{next(self._serial):09d}.msg"
        tmp = self.root / f".{name}.tmp"
        tmp.write_bytes(json.dumps(dict(headers)).encode() + b"\n" + body)
        os.replace(tmp, self.ready / name)

    def consume(self, *, timeout: float | None = None) -> Iterator[Message]:
        """Yield messages until none arrives for ``timeout`` seconds (None: forever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            message = self._claim_next()
            if message is not None:
                yield message
                deadline = None if timeout is None else time.monotonic() + timeout
            elif deadline is not None and time.monotonic() >= deadline:
                return
            else:
                time.sleep(POLL)

    def ack(self, message: Message) -> None:
        path = self._claim_of(message)
        path.unlink()
        self._mine.discard(path)

    def reject(self, message: Message, *, requeue: bool) -> None:
        path = self._claim_of(message)
        os.replace(path, (self.ready if requeue else self.dead) / _original(path))
        self._mine.discard(path)

    def close(self) -> None:
        """Put back what this consumer claimed and did not acknowledge."""
        for path in list(self._mine):
            os.replace(path, self.ready / _original(path))
            self._mine.discard(path)

    def _claim_next(self) -> Message | None:
        if not self._waiting:
            self._return_expired()
            self._waiting.extend(sorted(n for n in os.listdir(self.ready) if n.endswith(".msg")))
        while self._waiting:
            name = self._waiting.popleft()
            claim = self.claimed / f"{name}@{time.time_ns()}"
            try:
                os.rename(self.ready / name, claim)
            except FileNotFoundError:  # another consumer was first
                continue
            self._mine.add(claim)
            head, _, body = claim.read_bytes().partition(b"\n")
            return Message(body=body, headers=json.loads(head), token=claim)
        return None

    def _return_expired(self) -> None:
        """Give back messages whose consumer has held them too long (it died)."""
        limit = time.time_ns() - int(self.visibility * 1e9)
        for name in os.listdir(self.claimed):
            if int(name.rpartition("@")[2]) < limit:
                try:
                    os.rename(self.claimed / name, self.ready / name.rpartition("@")[0])
                except FileNotFoundError:  # acknowledged or returned meanwhile
                    continue

    def _claim_of(self, message: Message) -> Path:
        path = message.token
        if not isinstance(path, Path) or path not in self._mine or not path.exists():
            raise BrokerError("the message is not held by this consumer (acknowledged "
                              "already, or its claim expired)")
        return path


def _original(claim: Path) -> str:
    return claim.name.rpartition("@")[0]
