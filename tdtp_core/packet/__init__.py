"""The packet engine: encode, write, read and verify TDTP packets."""

from tdtp_core.packet.model import AlarmDetails, Header
from tdtp_core.packet.reader import (
    PacketInfo,
    inspect_packet,
    parse_packet,
    read_packets,
    verify_packets,
)
from tdtp_core.packet.writer import (
    DEFAULT_PART_SIZE,
    PacketWriter,
    PartResult,
    WriteOptions,
    encode_packets,
    write_packet_files,
    write_packets,
)

__all__ = [
    "DEFAULT_PART_SIZE",
    "AlarmDetails",
    "Header",
    "PacketInfo",
    "PacketWriter",
    "PartResult",
    "WriteOptions",
    "encode_packets",
    "inspect_packet",
    "parse_packet",
    "read_packets",
    "verify_packets",
    "write_packet_files",
    "write_packets",
]
