"""The VP8 payload descriptor fields a layer switch rewrites (RFC 7741 §4.2), and a keyframe's
size (RFC 6386 §9.1): pure functions on the packet bytes, no object per packet.

Each simulcast layer numbers its pictures on its own (PictureID, TL0PICIDX). A viewer moved from
one layer to another must see both numbers continue, or its decoder's reference bookkeeping
(libwebrtc's RtpVp8RefFinder) takes the jump for lost frames: so the plane keeps an offset per
viewer and adds it where :func:`descriptor` says the fields are.
"""

from __future__ import annotations

from typing import NamedTuple


class Vp8Fields(NamedTuple):
    """Where PictureID and TL0PICIDX are in one packet (-1: absent) and their values.

    ``wide`` is True for a 15-bit PictureID (M bit set), False for 7 bits.
    """

    pid_pos: int
    wide: bool
    pid: int
    tl0_pos: int
    tl0: int


NO_FIELDS = Vp8Fields(-1, False, 0, -1, 0)


def descriptor(data: bytes | bytearray | memoryview, start: int, end: int) -> Vp8Fields:
    """The PictureID and TL0PICIDX of a packet whose VP8 payload starts at ``start``."""
    if end - start < 2 or not data[start] & 0x80:  # no X byte: neither field present
        return NO_FIELDS
    ext = data[start + 1]
    pos = start + 2
    pid_pos, wide, pid = -1, False, 0
    if ext & 0x80:  # I
        if pos >= end:
            return NO_FIELDS
        pid_pos = pos
        if data[pos] & 0x80:  # M: 15 bits
            if pos + 1 >= end:
                return NO_FIELDS
            wide, pid = True, ((data[pos] & 0x7F) << 8) | data[pos + 1]
            pos += 2
        else:
            pid = data[pos] & 0x7F
            pos += 1
    tl0_pos, tl0 = -1, 0
    if ext & 0x40:  # L
        if pos >= end:
            return NO_FIELDS
        tl0_pos, tl0 = pos, data[pos]
    return Vp8Fields(pid_pos, wide, pid, tl0_pos, tl0)


def pid_modulus(fields: Vp8Fields) -> int:
    return 1 << 15 if fields.wide else 1 << 7


def write_pid(buf: bytearray | memoryview, fields: Vp8Fields, pid: int) -> None:
    """Write ``pid`` (already reduced to the field's width) where ``fields`` found it."""
    pos = fields.pid_pos
    if fields.wide:
        buf[pos] = 0x80 | (pid >> 8)
        buf[pos + 1] = pid & 0xFF
    else:
        buf[pos] = pid & 0x7F


def keyframe_size(data: bytes | bytearray | memoryview, start: int, end: int) -> tuple[int, int]:
    """(width, height) of the keyframe whose first packet has its VP8 payload at ``start``.

    After the descriptor: a 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and
    height, little-endian, each with 2 scaling bits (RFC 6386 §9.1). (0, 0) if absent.
    """
    pos = start + 1
    first = data[start] if end > start else 0
    if first & 0x80:
        ext = data[pos] if pos < end else 0
        pos += 1
        if ext & 0x80:
            pos += 2 if pos < end and data[pos] & 0x80 else 1
        if ext & 0x40:
            pos += 1
        if ext & 0x30:
            pos += 1
    if pos + 10 > end or data[pos] & 0x01 or bytes(data[pos + 3 : pos + 6]) != b"\x9d\x01\x2a":
        return 0, 0
    width = (data[pos + 6] | data[pos + 7] << 8) & 0x3FFF
    height = (data[pos + 8] | data[pos + 9] << 8) & 0x3FFF
    return width, height
