"""VP8 frames out of RTP (RFC 7741): the payload descriptor stripped, partitions joined.

A frame starts at a packet with S=1 and partition index 0 (§4.2) and ends at the marker bit
(§4.1). The first byte of the VP8 payload header has P=0 on a key frame (§4.3, RFC 6386
§9.1), whose first 10 bytes also carry the picture size.
"""

from __future__ import annotations

from streaming.depacketize.assembler import Piece
from streaming.depacketize.video import VideoDepacketizer
from streaming.frames import Frame
from streaming.rtp_header import RtpHeader

KEYFRAME_START_CODE = b"\x9d\x01\x2a"  # RFC 6386 §9.1


def payload_start(data: bytes, start: int, end: int) -> int:
    """Where the VP8 payload begins after the descriptor at ``start`` (-1: truncated)."""
    pos = start + 1
    if data[start] & 0x80:  # X: extension byte
        if pos >= end:
            return -1
        ext = data[pos]
        pos += 1
        if ext & 0x80:  # I: PictureID, 15 bits when M is set
            if pos >= end:
                return -1
            pos += 2 if data[pos] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            pos += 1
        if ext & 0x30:  # T or K: TID/Y/KEYIDX
            pos += 1
    return pos if pos < end else -1


def keyframe_size(frame: bytes) -> tuple[int, int]:
    """(width, height) of a VP8 key frame: 14 bits each after the start code (RFC 6386 §9.1)."""
    if len(frame) < 10 or frame[3:6] != KEYFRAME_START_CODE:
        raise ValueError("VP8 key frame has no start code")
    return (frame[6] | frame[7] << 8) & 0x3FFF, (frame[8] | frame[9] << 8) & 0x3FFF


class Vp8Depacketizer(VideoDepacketizer):
    """VP8 frames; a key frame carries its width and height."""

    def _piece(self, data: bytes, h: RtpHeader, ts: int) -> Piece | None:
        start, end = h.payload_offset, h.payload_end
        if end <= start:
            return Piece(ts, h.marker, False, False, b"")  # padding only
        pos = payload_start(data, start, end)
        if pos < 0:
            return None
        first = data[start] & 0x17 == 0x10  # S=1, PID=0
        key = first and not data[pos] & 0x01
        return Piece(ts, h.marker, first, key, data[pos:end])

    def _build(self, run: list[Piece]) -> Frame:
        data = b"".join(piece.payload for piece in run)
        if not run[0].key:
            return Frame(data, run[0].ts, False)
        width, height = keyframe_size(data)
        return Frame(data, run[0].ts, True, width, height)
