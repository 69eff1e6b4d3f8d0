"""The one compiled module of tdtp-core: SQLite rows to packet text (the SQLite export
lane, ``tdtp_core/sql/_rowtext.c``). Optional: without a C compiler or SQLite's headers
the build goes on and the same rows take the pure-Python path."""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("tdtp_core.sql._rowtext", ["tdtp_core/sql/_rowtext.c"], libraries=["sqlite3"],
              extra_compile_args=["-O2"], optional=True),
])
