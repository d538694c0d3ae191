"""Pure RTP header parsing and in-place rewriting (RFC 3550 §5.1, RFC 8285)."""

from __future__ import annotations

import struct

import pytest
from aiortc.rtp import RtpPacket

from streaming import rtp_header


def packet(extensions: bytes = b"", padding: int = 0, csrcs: int = 0) -> bytes:
    first = 0x80 | csrcs
    body = b""
    if extensions:
        first |= 0x10
        body += struct.pack("!HH", 0xBEDE, len(extensions) // 4) + extensions
    if padding:
        first |= 0x20
    head = struct.pack("!BBHII", first, 0x80 | 96, 65535, 0xFFFFFFF0, 0x11223344)
    head += b"\x00\x00\x00\x01" * csrcs
    pad = b"\x00" * (padding - 1) + bytes([padding]) if padding else b""
    return head + body + b"PAYLOAD" + pad


def test_parse_reads_fields_and_offsets() -> None:
    data = packet(extensions=b"\x10\xaa\x00\x00", padding=3, csrcs=1)
    h = rtp_header.parse(data)
    assert (h.marker, h.payload_type, h.sequence, h.timestamp, h.ssrc) == (
        True,
        96,
        65535,
        0xFFFFFFF0,
        0x11223344,
    )
    assert h.extension_offset == 16
    assert data[h.payload_offset : h.payload_end] == b"PAYLOAD"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80" * 11, "RTP packet length is less than 12 bytes"),
        (b"\x40" + b"\x00" * 11, "RTP packet has invalid version"),
        (b"\x90" + b"\x00" * 11 + b"\xbe", "RTP packet has truncated extension profile / length"),
        (b"\xa0" + b"\x00" * 10 + b"\x40", "RTP packet is truncated"),
    ],
)
def test_parse_refuses_malformed(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        rtp_header.parse(data)


def test_rewrite_keeps_marker_and_payload() -> None:
    buf = bytearray(packet())
    rtp_header.rewrite(buf, 100, 7, 12345, 0xCAFEBABE)
    parsed = RtpPacket.parse(bytes(buf))  # aiortc's own parser agrees
    assert (parsed.marker, parsed.payload_type, parsed.sequence_number) == (1, 100, 7)
    assert (parsed.timestamp, parsed.ssrc, parsed.payload) == (12345, 0xCAFEBABE, b"PAYLOAD")


def test_remap_extensions_renames_and_pads_unknown() -> None:
    # id 1 (1 byte) -> 5; id 3 (3 bytes) dropped; id 4 (1 byte) -> 4
    ext = bytes([0x10, 0xAA, 0x32, 1, 2, 3, 0x40, 0xBB, 0, 0, 0, 0])
    buf = bytearray(packet(extensions=ext))
    h = rtp_header.parse(buf)
    rtp_header.remap_extensions(
        buf, h.extension_offset, rtp_header.extension_map_table({1: 5, 4: 4})
    )
    values = dict(
        (x_id, value)
        for x_id, value in __import__("aiortc.rtp", fromlist=["x"]).unpack_header_extensions(
            0xBEDE, bytes(buf[h.extension_offset + 4 : h.payload_offset])
        )
    )
    assert values == {5: b"\xaa", 4: b"\xbb"}
    assert buf[h.payload_offset : h.payload_end] == b"PAYLOAD"


def test_find_extension() -> None:
    data = packet(extensions=bytes([0x32, 9, 8, 7]))
    h = rtp_header.parse(data)
    assert rtp_header.find_extension(data, h.extension_offset, 3) == b"\x09\x08\x07"
    assert rtp_header.find_extension(data, h.extension_offset, 2) is None
    assert rtp_header.find_extension(data, -1, 3) is None


def test_extension_table_range() -> None:
    with pytest.raises(ValueError, match=r"^RTP header extension id is out of range$"):
        rtp_header.extension_map_table({0: 1})


@pytest.mark.parametrize(
    ("extensions", "ext_id", "found"),
    [
        (b"\x12\x01\x02\x03", 1, True),  # abs-send-time first
        (b"\x10\xaa\x22\x01\x02\x03\x00\x00", 2, True),  # after another element
        (b"\x10\xaa\x00\x00", 2, False),  # absent
        (b"\x11\xaa\xbb\x00", 1, False),  # id 1 but not 3 octets: not abs-send-time
    ],
)
def test_abs_send_time_is_found_where_it_can_be_stamped(
    extensions: bytes, ext_id: int, found: bool
) -> None:
    """The node stamps its own send time where ``extension_position`` says (streaming/source.py
    ``_template``), and only in a 3-octet element."""
    data = bytearray(packet(extensions=extensions))
    before = bytes(data)
    h = rtp_header.parse(data)
    pos = rtp_header.extension_position(data, h.extension_offset, ext_id)
    fits = pos >= 0 and data[pos - 1] & 0x0F == 2
    assert fits is found
    if not found:
        return
    data[pos : pos + 3] = rtp_header.abs_send_time(65.5)
    assert rtp_header.find_extension(bytes(data), h.extension_offset, ext_id) == (
        int(1.5 * 2**18).to_bytes(3, "big"))  # 65.5 s wraps to 1.5 s (6 integer bits)
    changed = [i for i, (a, b) in enumerate(zip(before, data, strict=True)) if a != b]
    assert all(h.extension_offset < i < h.payload_offset for i in changed)
