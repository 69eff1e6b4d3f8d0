"""The compiled modules of tdtp-core, each a faster route to what a pure-Python path
already does (and the fallback for anything but the common forms):

- ``tdtp_core/packet/_rowdecode.c``: packet row strings to typed rows (the reader);
- ``tdtp_core/sql/_sqliterows.c``: SQLite rows to packet text (the SQLite export lane) and
  the pipeline workspace's storage check; ``_sqliteinsert.c``, in the same module:
  packet rows bound to an INSERT (the SQLite import lane);
- ``tdtp_core/sql/_bulktext.c``: packet rows to COPY text (the PostgreSQL import lane).

All are optional: without a C compiler (or SQLite's headers) the build goes on and the
same work takes the pure-Python paths. ``TDTP_PURE_PYTHON=1`` skips them on purpose (the
template check in CI, which needs no speed, saves their compile in every fresh venv)."""

import os

from setuptools import Extension, setup

PURE = os.environ.get("TDTP_PURE_PYTHON", "") not in ("", "0")

setup(ext_modules=[] if PURE else [
    Extension("tdtp_core.packet._rowdecode", ["tdtp_core/packet/_rowdecode.c"],
              depends=["tdtp_core/_celltext.h"], extra_compile_args=["-O2"], optional=True),
    Extension("tdtp_core.sql._sqliterows",
              ["tdtp_core/sql/_sqliterows.c", "tdtp_core/sql/_sqliteinsert.c"],
              libraries=["sqlite3"],
              depends=["tdtp_core/_buffer.h", "tdtp_core/_celltext.h",
                       "tdtp_core/sql/_rowlane.h", "tdtp_core/sql/_sqlitehandle.h"],
              extra_compile_args=["-O2"], optional=True),
    Extension("tdtp_core.sql._bulktext", ["tdtp_core/sql/_bulktext.c"],
              depends=["tdtp_core/_buffer.h", "tdtp_core/_celltext.h",
                       "tdtp_core/sql/_rowlane.h"],
              extra_compile_args=["-O2"], optional=True),
])
