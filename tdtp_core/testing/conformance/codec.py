"""The codec suite: ``compress`` and ``decompress`` are inverse for any bytes, and bad
input is a ``PacketError`` rather than a crash or a silent wrong answer."""

from __future__ import annotations

import random
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tdtp_core.errors import PacketError
from tdtp_core.protocols import Codec
from tdtp_core.testing.conformance._base import Conformance

#: Generous enough for every test input; the cap itself is tested separately.
MAX_OUTPUT = 64 << 20


def _large_input() -> bytes:
    """8 MiB mixing incompressible and repetitive stretches, as real rows do."""
    rng = random.Random(20240601)
    noise = rng.randbytes(1 << 20)
    text = b"1|Ada Lovelace|1815-12-10|1500.50\n" * 30000
    return (noise + text) * 4


class CodecConformance(Conformance):
    """Subclass it, naming the plugin module and the codec::

        class TestZstd(CodecConformance):
            plugin = "tdtp_codec_zstd"
            component = "zstd"
    """

    kind = "codecs"
    #: Compression levels the round trips are run at.
    levels: ClassVar[tuple[int, ...]] = (1, 3, 9)

    @pytest.fixture
    def codec(self) -> Codec:
        instance: Codec = self.component_class()()
        return instance

    def test_is_a_codec_named_as_registered(self, codec: Codec) -> None:
        assert isinstance(codec, Codec)
        assert codec.name == self.component

    @settings(deadline=None)
    @given(data=st.binary(max_size=8192))
    def test_round_trips_arbitrary_bytes(self, data: bytes) -> None:
        codec = self.component_class()()
        assert codec.decompress(codec.compress(data), max_output=MAX_OUTPUT) == data

    def test_round_trips_at_every_level(self, codec: Codec) -> None:
        data = b"id|name\n" + b"".join(b"%d|row %d\n" % (i, i) for i in range(5000))
        for level in self.levels:
            packed = codec.compress(data, level=level)
            assert codec.decompress(packed, max_output=MAX_OUTPUT) == data, f"level {level}"

    def test_round_trips_empty_input(self, codec: Codec) -> None:
        assert codec.decompress(codec.compress(b""), max_output=MAX_OUTPUT) == b""

    def test_round_trips_large_input(self, codec: Codec) -> None:
        data = _large_input()
        assert codec.decompress(codec.compress(data), max_output=MAX_OUTPUT) == data

    def test_output_past_max_output_is_a_packet_error(self, codec: Codec) -> None:
        packed = codec.compress(b"\0" * 100_001)
        with pytest.raises(PacketError):
            codec.decompress(packed, max_output=100_000)

    def test_output_at_max_output_is_accepted(self, codec: Codec) -> None:
        packed = codec.compress(b"a" * 1000)
        assert codec.decompress(packed, max_output=1000) == b"a" * 1000

    def test_garbage_is_a_packet_error(self, codec: Codec) -> None:
        with pytest.raises(PacketError):
            codec.decompress(b"this is not compressed data, only text " * 4,
                             max_output=MAX_OUTPUT)

    def test_truncated_input_is_a_packet_error(self, codec: Codec) -> None:
        packed = codec.compress(random.Random(7).randbytes(64 * 1024))
        with pytest.raises(PacketError):
            codec.decompress(packed[: len(packed) // 2], max_output=MAX_OUTPUT)
