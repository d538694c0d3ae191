"""Keyframe detection for VP8 and H264 RTP payloads: pure functions, table-tested.

A forwarding server never decodes, yet it must know where a picture can be decoded from: to
start a new viewer at once (the keyframe cache) and to resume a slow viewer. Both questions are
answered from the first bytes of the RTP payload.
"""

from __future__ import annotations

from collections.abc import Callable

# H264 NAL unit types (RFC 6184 §5.2, ITU-T H.264 Table 7-1)
NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
NAL_STAP_A = 24
NAL_FU_A = 28


def vp8_keyframe_start(payload: bytes | bytearray | memoryview, start: int, end: int) -> bool:
    """True if the packet starts a VP8 keyframe (RFC 7741 §4.2-4.3).

    The payload descriptor's S bit must be set with partition index 0, and the first byte of
    the VP8 payload header has P (inverse keyframe flag) = 0.
    """
    if end - start < 2:
        return False
    first = payload[start]
    if not first & 0x10 or first & 0x07:
        return False  # not the start of partition 0
    pos = start + 1
    if first & 0x80:  # X: extended control bits
        ext = payload[pos]
        pos += 1
        if ext & 0x80:  # I: picture id, M bit says 15 bits
            if pos >= end:
                return False
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            pos += 1
        if ext & 0x30:  # T or K: TID/Y/KEYIDX
            pos += 1
    if pos >= end:
        return False
    return not payload[pos] & 0x01


def h264_keyframe_start(payload: bytes | bytearray | memoryview, start: int, end: int) -> bool:
    """True if the packet starts an H264 keyframe: an SPS or the first part of an IDR slice.

    Single NAL units, STAP-A aggregates (any aggregated SPS or IDR) and FU-A fragments with
    the S bit (RFC 6184 §5.6-5.8) are recognised; packetization-mode 1 needs no more.
    """
    if end - start < 1:
        return False
    nal = payload[start] & 0x1F
    if nal in (NAL_IDR, NAL_SPS):
        return True
    if nal == NAL_FU_A:
        if end - start < 2:
            return False
        header = payload[start + 1]
        return bool(header & 0x80) and (header & 0x1F) in (NAL_IDR, NAL_SPS)
    if nal == NAL_STAP_A:
        pos = start + 1
        while pos + 2 < end:
            size = (payload[pos] << 8) | payload[pos + 1]
            if size == 0:
                return False
            if payload[pos + 2] & 0x1F in (NAL_IDR, NAL_SPS):
                return True
            pos += 2 + size
    return False


def never(payload: bytes | bytearray | memoryview, start: int, end: int) -> bool:
    """Audio: every packet can be decoded on its own, there are no keyframes."""
    return False


KeyframeTest = Callable[[bytes | bytearray | memoryview, int, int], bool]


def detector(mime_type: str) -> KeyframeTest:
    """The keyframe test for a codec (``video/VP8``, ``video/H264``; anything else: never)."""
    name = mime_type.lower()
    if name == "video/vp8":
        return vp8_keyframe_start
    if name == "video/h264":
        return h264_keyframe_start
    return never
