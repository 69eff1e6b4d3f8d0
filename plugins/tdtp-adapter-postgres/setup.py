"""The plugin's optional compiled helper, ``tdtp_adapter_postgres/_copytext.c``: COPY text
to packet rows in one pass (the export lane's string path). Without a C compiler the build
goes on and ``copyout.CopyRows`` does the same in Python."""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("tdtp_adapter_postgres._copytext", ["tdtp_adapter_postgres/_copytext.c"],
              extra_compile_args=["-O2"], optional=True),
])
