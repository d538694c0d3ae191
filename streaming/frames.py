"""Frames out of RTP: what the depacketizers give the recorder (and later HLS, issue 16).

DESIGN.md §8: ``RTP packets → depacketizer → frames with RTP-derived timestamps → PyAV muxer``.
A :class:`Frame` is one whole coded frame (a VP8 frame, an H264 access unit in Annex B form,
an Opus packet) with its *unwrapped* RTP timestamp, so a muxer can turn it into a presentation
time without caring about 32-bit wraps. Depacketizers are pure (no I/O, no clock) and
table-tested; they are fed plaintext RTP in arrival order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from streaming.rtp_header import RtpHeader


@dataclass(frozen=True, slots=True)
class Frame:
    """One coded frame.

    ``ts``: the frame's RTP timestamp unwrapped to 64 bits (the first packet's value is kept
    as is, later ones continue past 2**32). ``keyframe``: decodable on its own (VP8 key frame,
    H264 IDR with its SPS/PPS). ``width``/``height``: a video keyframe's size where the codec
    says it (0 otherwise). ``after_gap``: frames were lost just before this one (audio: the
    timestamp gap stays a gap in time, never drift; video: this is the keyframe that ended the
    wait).
    """

    data: bytes
    ts: int
    keyframe: bool
    width: int = 0
    height: int = 0
    after_gap: bool = False


class Depacketizer(Protocol):
    """Frames out of one RTP stream (one SSRC at a time; a new SSRC starts afresh).

    :meth:`push` takes one plaintext packet and returns the frames it completed (usually zero
    or one). After a loss a video depacketizer drops frames until the next keyframe and sets
    :attr:`want_keyframe` until then, so its owner asks the publisher for one (a PLI).
    """

    clock_rate: int
    want_keyframe: bool

    def push(self, data: bytes, h: RtpHeader) -> list[Frame]: ...
