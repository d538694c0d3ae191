"""What VP8 and H264 depacketizers share: one SSRC at a time, unwrapping, the assembler."""

from __future__ import annotations

from abc import ABC, abstractmethod

from streaming.depacketize.assembler import FrameAssembler, Piece
from streaming.depacketize.unwrap import FAR_BEHIND, Unwrapper
from streaming.frames import Frame
from streaming.rtp_header import RtpHeader

VIDEO_CLOCK_RATE = 90_000  # RFC 7741 §6.1, RFC 6184 §8.1


class VideoDepacketizer(ABC):
    """A :class:`streaming.frames.Depacketizer` for a video codec.

    A subclass says what one packet brings (:meth:`_piece`) and what a run of pieces makes
    (:meth:`_build`); this class keeps the SSRC, the unwrapped numbers and the
    :class:`~streaming.depacketize.assembler.FrameAssembler`. A new SSRC (the publisher's
    encoder restarted) starts afresh: it waits for a keyframe, which comes ``after_gap``; so does
    a sequence number far behind the highest (the same SSRC numbering anew).
    """

    def __init__(self) -> None:
        self.clock_rate = VIDEO_CLOCK_RATE
        self.want_keyframe = True
        self._ssrc: int | None = None
        self._seq = Unwrapper(16)
        self._ts = Unwrapper(32)
        self._frames = FrameAssembler(self._build)

    def push(self, data: bytes, h: RtpHeader) -> list[Frame]:
        if h.ssrc != self._ssrc:
            if self._ssrc is not None:
                self._restart()
            self._ssrc = h.ssrc
        seq = self._seq.unwrap(h.sequence)
        if self._seq.highest is not None and self._seq.highest - seq > FAR_BEHIND:
            self._restart()
            seq = self._seq.unwrap(h.sequence)
        piece = self._piece(data, h, self._ts.unwrap(h.timestamp))
        frames = [] if piece is None else self._frames.add(seq, piece)
        self.want_keyframe = self._frames.waiting
        return frames

    def _restart(self) -> None:
        self._seq = Unwrapper(16)
        self._ts = Unwrapper(32)
        self._frames = FrameAssembler(self._build, after_gap=True)

    @abstractmethod
    def _piece(self, data: bytes, h: RtpHeader, ts: int) -> Piece | None:
        """What the packet brings to its frame; ``None`` if malformed (it counts as lost)."""

    @abstractmethod
    def _build(self, run: list[Piece]) -> Frame | None:
        """One frame of the run of pieces (see :data:`~streaming.depacketize.assembler.Build`)."""
