"""One SQLAlchemy engine (and so one connection pool) per database URL, per process."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

_engines: dict[tuple[str, str], Engine] = {}
_lock = threading.Lock()


def cached_engine(kind: str, url: str, build: Callable[[], Engine]) -> Engine:
    """The engine for ``url``, built on first use; ``kind`` keeps adapters apart."""
    key = (kind, url)
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _engines[key] = build()
    return engine


def peek(kind: str, url: str) -> Engine | None:
    """The engine for ``url`` if one was built, without building it."""
    return _engines.get((kind, url))


def dispose(kind: str, url: str) -> None:
    """Close the pool of one URL (the next use builds a fresh engine)."""
    with _lock:
        engine = _engines.pop((kind, url), None)
    if engine is not None:
        engine.dispose()


def dispose_all() -> None:
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()
