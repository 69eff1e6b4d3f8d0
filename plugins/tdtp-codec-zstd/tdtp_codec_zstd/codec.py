"""zstd as the reference writes and reads it (spec §4): checksummed frames with content
size on write; any number of concatenated frames, with or without content size, on read.
"""

from __future__ import annotations

import zstandard

from tdtp_core.errors import PacketError

#: zstd's worst-case expansion is about 32 KiB of output per input byte (RLE blocks),
#: so input is fed in slices small enough that one slice cannot overshoot the cap by
#: more than the room left; a bomb is stopped after at most twice the cap.
_MAX_RATIO = 32 * 1024
_MIN_SLICE = 64


class ZstdCodec:
    """The ``zstd`` codec of ``Data@compression``."""

    name = "zstd"

    def compress(self, data: bytes, *, level: int = 3) -> bytes:
        compressor = zstandard.ZstdCompressor(
            level=level, write_checksum=True, write_content_size=True
        )
        return compressor.compress(data)

    def decompress(self, data: bytes, *, max_output: int) -> bytes:
        """Decode every frame (skippable ones included); corrupt or truncated data and
        output past ``max_output`` bytes raise ``PacketError``."""
        dctx = zstandard.ZstdDecompressor()
        out = bytearray()
        frame = dctx.decompressobj()
        in_frame = False
        pos = 0
        try:
            while pos < len(data):
                size = max(_MIN_SLICE, (max_output - len(out)) // _MAX_RATIO)
                pending = data[pos : pos + size]
                pos += len(pending)
                while pending:
                    out += frame.decompress(pending)
                    in_frame = True
                    if len(out) > max_output:
                        raise PacketError(
                            f"decompressed data exceeds {max_output} bytes"
                        )
                    if not frame.eof:
                        break
                    pending = frame.unused_data
                    frame = dctx.decompressobj()
                    in_frame = False
        except zstandard.ZstdError as exc:
            raise PacketError(f"corrupt zstd data: {exc}") from None
        if in_frame:
            raise PacketError("corrupt zstd data: the last frame is truncated")
        return bytes(out)
