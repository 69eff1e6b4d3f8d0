"""The ``{{ cookiecutter.name }}`` codec: zlib (RFC 1950) from the standard library.

An example to replace with your own compression. A packet names it as
``Data@compression="{{ cookiecutter.name }}"``; ``tdtp export --compress {{ cookiecutter.name }}``
writes it.
"""

from __future__ import annotations

import zlib

from tdtp_core.errors import PacketError


class {{ cookiecutter.__class }}:
    """Stateless: core builds one instance and shares it."""

    name = "{{ cookiecutter.name }}"

    def compress(self, data: bytes, *, level: int = 3) -> bytes:
        """zlib knows the levels 0-9; others (zstd's go to 22) are clamped."""
        return zlib.compress(data, min(max(level, 0), 9))

    def decompress(self, data: bytes, *, max_output: int) -> bytes:
        """Inflate at most ``max_output + 1`` bytes, so a compression bomb is refused
        without ever being expanded in memory; every defect is a ``PacketError``."""
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data, max_output + 1)
        except zlib.error as exc:
            raise PacketError(f"corrupt {self.name} data: {exc}") from None
        if len(out) > max_output:
            raise PacketError(f"decompressed data exceeds {max_output} bytes")
        if not inflater.eof:
            raise PacketError(f"corrupt {self.name} data: truncated")
        if inflater.unused_data:
            raise PacketError(f"corrupt {self.name} data: bytes after the end")
        return out
