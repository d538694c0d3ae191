"""Pure RTP header access for the forwarding path (RFC 3550 §5.1, RFC 8285 header extensions).

The hot path never builds an object per packet: :func:`parse` returns a tuple of the fields the
plane routes on, and the rewriting helpers work in place on a ``bytearray`` or any writable
buffer. ``ValueError`` carries one exact sentence, as aiortc's parsers do.
"""

from __future__ import annotations

from struct import pack_into, unpack_from
from typing import NamedTuple

RTP_VERSION = 2
ONE_BYTE_PROFILE = 0xBEDE
TWO_BYTE_PROFILE_MASK = 0xFFF0
TWO_BYTE_PROFILE = 0x1000


class RtpHeader(NamedTuple):
    """The fields of one RTP packet the plane needs; offsets index the original bytes."""

    marker: bool
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    extension_offset: int  # -1 when the packet has no header extension
    payload_offset: int
    payload_end: int


def parse(data: bytes | bytearray | memoryview) -> RtpHeader:
    """Parse the fixed header, CSRCs, header extension and padding of an RTP packet."""
    length = len(data)
    if length < 12:
        raise ValueError("RTP packet length is less than 12 bytes")
    first, second, sequence, timestamp, ssrc = unpack_from("!BBHII", data, 0)
    if first >> 6 != RTP_VERSION:
        raise ValueError("RTP packet has invalid version")
    offset = 12 + 4 * (first & 0x0F)
    extension_offset = -1
    if first & 0x10:
        if offset + 4 > length:
            raise ValueError("RTP packet has truncated extension profile / length")
        extension_offset = offset
        words = unpack_from("!H", data, offset + 2)[0]
        offset += 4 + 4 * words
    end = length
    if first & 0x20:
        end -= data[length - 1]
    if offset > end:
        raise ValueError("RTP packet is truncated")
    return RtpHeader(
        bool(second & 0x80), second & 0x7F, sequence, timestamp, ssrc, extension_offset, offset, end
    )


def rewrite(
    buf: bytearray | memoryview, payload_type: int, sequence: int, timestamp: int, ssrc: int
) -> None:
    """Set payload type (keeping the marker bit), sequence number, timestamp and SSRC in place."""
    pack_into("!BHII", buf, 1, (buf[1] & 0x80) | payload_type, sequence, timestamp, ssrc)


def extension_map_table(mapping: dict[int, int]) -> bytes:
    """A 256-byte table for :func:`remap_extensions`: publisher id -> viewer id, 0 = drop."""
    table = bytearray(256)
    for src, dst in mapping.items():
        if not 1 <= src <= 255 or not 0 <= dst <= 255:
            raise ValueError("RTP header extension id is out of range")
        table[src] = dst
    return bytes(table)


def remap_extensions(buf: bytearray, offset: int, table: bytes) -> None:
    """Rewrite header extension ids in place (RFC 8285); an unmapped element becomes padding.

    One-byte elements (profile 0xBEDE) have ids 1-14; turning an element into zero bytes makes
    it padding, which RFC 8285 §4.2 says receivers skip, so nothing moves in the packet. The
    two-byte form (0x100X) is handled the same way with its own layout.
    """
    profile, words = unpack_from("!HH", buf, offset)
    pos = offset + 4
    end = pos + 4 * words
    if profile == ONE_BYTE_PROFILE:
        while pos < end:
            head = buf[pos]
            if head == 0:
                pos += 1
                continue
            ext_id = head >> 4
            size = (head & 0x0F) + 1
            if ext_id == 15:  # RFC 8285 §4.2: id 15 stops processing
                return
            new_id = table[ext_id] if ext_id < 15 else 0
            if new_id and new_id < 15:
                buf[pos] = (new_id << 4) | (head & 0x0F)
            else:
                buf[pos : pos + 1 + size] = bytes(1 + size)
            pos += 1 + size
    elif profile & TWO_BYTE_PROFILE_MASK == TWO_BYTE_PROFILE:
        while pos + 1 < end:
            ext_id = buf[pos]
            if ext_id == 0:
                pos += 1
                continue
            size = buf[pos + 1]
            new_id = table[ext_id]
            if new_id:
                buf[pos] = new_id
            else:
                buf[pos : pos + 2 + size] = bytes(2 + size)
            pos += 2 + size


def find_extension(data: bytes, offset: int, ext_id: int) -> bytes | None:
    """The value of one-byte header extension ``ext_id`` (e.g. abs-send-time), or ``None``."""
    pos = extension_position(data, offset, ext_id)
    if pos < 0:
        return None
    return bytes(data[pos : pos + (data[pos - 1] & 0x0F) + 1])


def extension_position(data: bytes | bytearray, offset: int, ext_id: int) -> int:
    """Where the value of one-byte header extension ``ext_id`` starts (-1: not there)."""
    if offset < 0 or ext_id <= 0:
        return -1
    profile, words = unpack_from("!HH", data, offset)
    if profile != ONE_BYTE_PROFILE:
        return -1
    pos = offset + 4
    end = pos + 4 * words
    while pos < end:
        head = data[pos]
        if head == 0:
            pos += 1
            continue
        size = (head & 0x0F) + 1
        if head >> 4 == ext_id:
            return pos + 1 if pos + 1 + size <= end else -1
        if head >> 4 == 15:
            return -1
        pos += 1 + size
    return -1


def abs_send_time(now: float) -> bytes:
    """The abs-send-time extension's value for ``now`` (seconds): 6.18 fixed point, 24 bits
    (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time); receivers use differences."""
    return (int(now * (1 << 18)) & 0xFFFFFF).to_bytes(3, "big")
