"""Opus frames out of RTP (RFC 7587): one packet is one frame, at 48 kHz.

Nothing is reassembled or reordered: a packet that comes after a later one was taken is too
late for a muxer whose times only grow, and is dropped. A lost packet leaves its time empty
(the next frame's timestamp says where it belongs) and the next frame says ``after_gap``.
"""

from __future__ import annotations

from streaming.depacketize.unwrap import FAR_BEHIND, Unwrapper
from streaming.frames import Frame
from streaming.rtp_header import RtpHeader

OPUS_CLOCK_RATE = 48_000  # RFC 7587 §4.1: always 48000, whatever the coded bandwidth


class OpusDepacketizer:
    """Opus packets as frames (each decodable alone: ``keyframe`` is always true)."""

    def __init__(self) -> None:
        self.clock_rate = OPUS_CLOCK_RATE
        self.want_keyframe = False
        self._ssrc: int | None = None
        self._seq = Unwrapper(16)
        self._ts = Unwrapper(32)
        self._last: int | None = None  # the last sequence number taken
        self._gap = False

    def push(self, data: bytes, h: RtpHeader) -> list[Frame]:
        if h.ssrc != self._ssrc:
            if self._ssrc is not None:
                self._restart()
            self._ssrc = h.ssrc
        seq = self._seq.unwrap(h.sequence)
        if self._seq.highest is not None and self._seq.highest - seq > FAR_BEHIND:
            self._restart()  # numbered anew: not a packet too late to keep
            seq = self._seq.unwrap(h.sequence)
        ts = self._ts.unwrap(h.timestamp)
        if self._last is not None and seq <= self._last:
            return []  # late or a duplicate: its time has passed
        self._gap = self._gap or (self._last is not None and seq > self._last + 1)
        self._last = seq
        if h.payload_end <= h.payload_offset:
            return []  # nothing to decode; its time stays empty
        gap, self._gap = self._gap, False
        return [Frame(data[h.payload_offset : h.payload_end], ts, True, after_gap=gap)]

    def _restart(self) -> None:
        """A new SSRC: numbering starts afresh, and its first frame follows a gap."""
        self._seq = Unwrapper(16)
        self._ts = Unwrapper(32)
        self._last = None
        self._gap = True
