"""The zstd codec: round trips, multi-frame input, the output cap and corrupt data."""

from __future__ import annotations

import subprocess
import sys

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from tdtp_codec_zstd.codec import ZstdCodec

from tdtp_core.errors import PacketError

CAP = 1 << 20


@pytest.fixture
def codec() -> ZstdCodec:
    return ZstdCodec()


@given(data=st.binary(max_size=4096), level=st.integers(min_value=1, max_value=19))
def test_round_trip(data: bytes, level: int) -> None:
    codec = ZstdCodec()
    assert codec.decompress(codec.compress(data, level=level), max_output=CAP) == data


def test_frame_carries_checksum_and_content_size(codec: ZstdCodec) -> None:
    params = zstandard.get_frame_parameters(codec.compress(b"abc" * 100))
    assert params.has_checksum
    assert params.content_size == 300


def test_concatenated_frames_all_decoded(codec: ZstdCodec) -> None:
    blob = codec.compress(b"first\n") + codec.compress(b"second")
    assert codec.decompress(blob, max_output=CAP) == b"first\nsecond"


def test_frames_without_content_size_decoded(codec: ZstdCodec) -> None:
    streamed = zstandard.ZstdCompressor(write_content_size=False)
    blob = streamed.compress(b"x" * 5000) + streamed.compress(b"y")
    assert zstandard.get_frame_parameters(blob).content_size == zstandard.CONTENTSIZE_UNKNOWN
    assert codec.decompress(blob, max_output=CAP) == b"x" * 5000 + b"y"


def test_skippable_frame_ignored(codec: ZstdCodec) -> None:
    skippable = b"\x50\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"abc"
    assert codec.decompress(skippable + codec.compress(b"data"), max_output=CAP) == b"data"


def test_output_past_cap_rejected(codec: ZstdCodec) -> None:
    with pytest.raises(PacketError, match="exceeds 1000 bytes"):
        codec.decompress(codec.compress(b"\0" * 1001), max_output=1000)


def test_bomb_stopped_without_full_expansion(codec: ZstdCodec) -> None:
    bomb = codec.compress(b"\0" * (64 << 20), level=19)
    with pytest.raises(PacketError, match="exceeds"):
        codec.decompress(bomb, max_output=CAP)


def test_output_at_cap_accepted(codec: ZstdCodec) -> None:
    assert len(codec.decompress(codec.compress(b"a" * 1000), max_output=1000)) == 1000


def test_garbage_rejected(codec: ZstdCodec) -> None:
    with pytest.raises(PacketError, match="corrupt zstd data"):
        codec.decompress(b"definitely not zstd", max_output=CAP)


def test_truncated_frame_rejected(codec: ZstdCodec) -> None:
    blob = codec.compress(b"hello world " * 50)
    with pytest.raises(PacketError, match="truncated"):
        codec.decompress(blob[:-6], max_output=CAP)


def test_flipped_byte_rejected(codec: ZstdCodec) -> None:
    blob = bytearray(codec.compress(bytes(range(256)) * 4))
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises(PacketError):
        codec.decompress(bytes(blob), max_output=CAP)


def test_plugin_import_is_light() -> None:
    code = "import sys, tdtp_codec_zstd; print('zstandard' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_registered_through_plugin_host() -> None:
    import tdtp_codec_zstd

    from tdtp_core.plugins import PluginHost

    host = PluginHost(autoload=False)
    host.register_module(tdtp_codec_zstd, dist_name="tdtp-codec-zstd")
    assert isinstance(host.codec("zstd"), ZstdCodec)
