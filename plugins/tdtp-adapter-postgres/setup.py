"""The plugin's optional compiled helper, ``tdtp_adapter_postgres/_copytext.c``: COPY text
to packet rows in one pass (the export lane's string path). Without a C compiler, or with
``TDTP_PURE_PYTHON=1``, the build goes on and ``copyout.CopyRows`` does the same in
Python."""

import os

from setuptools import Extension, setup

PURE = os.environ.get("TDTP_PURE_PYTHON", "") not in ("", "0")

setup(ext_modules=[] if PURE else [
    Extension("tdtp_adapter_postgres._copytext", ["tdtp_adapter_postgres/_copytext.c"],
              extra_compile_args=["-O2"], optional=True),
])
