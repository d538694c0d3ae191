"""Opus → AAC-LC, once per audio track, for HLS (issue 16 §2: Safari plays no Opus in HLS).

Each Opus packet is decoded (FFmpeg's opus decoder, 48 kHz), cut into AAC's 1024-sample
frames by a resampler with a fixed frame size (the FIFO), and encoded with FFmpeg's native
``aac`` encoder at 48 kHz stereo, 128 kbit/s. Times come from the Opus frames: the first
frame anchors the sample count, and the count runs on (so AAC frames are exactly 1024 samples
apart) until an input drifts more than ``RESYNC_MS`` from it (a gap, a reconnect), which
anchors it again. Plain synchronous code for the packager's thread; one instance per track.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 1024  # AAC-LC frame length (ISO/IEC 14496-3 §4.5.1.1)
BIT_RATE = 128_000
RESYNC_MS = 200.0


@dataclass(frozen=True, slots=True)
class AacFrame:
    """One raw AAC frame (no ADTS header) and its presentation time in ms."""

    data: bytes
    t_ms: float


class OpusToAac:
    """Opus packets in, AAC frames out (after the encoder's delay of a frame or two)."""

    def __init__(self) -> None:
        self.decoder: Any = av.CodecContext.create("opus", "r")
        self.decoder.sample_rate = SAMPLE_RATE
        self.encoder: Any = av.CodecContext.create("aac", "w")
        self.encoder.sample_rate = SAMPLE_RATE
        self.encoder.layout = "stereo"
        self.encoder.format = "fltp"
        self.encoder.bit_rate = BIT_RATE
        self.encoder.time_base = Fraction(1, SAMPLE_RATE)
        self.encoder.open()
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE,
                                           frame_size=FRAME_SAMPLES)
        self._anchor_ms: float | None = None
        self._samples = 0  # samples fed to the encoder since the anchor

    @property
    def config(self) -> bytes:
        """The AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) for the init segment's esds."""
        return bytes(self.encoder.extradata or b"")

    def push(self, opus: bytes, t_ms: float) -> list[AacFrame]:
        """One Opus packet presented at ``t_ms``; the AAC frames it completed."""
        expected = None if self._anchor_ms is None else (
            self._anchor_ms + self._fed_ms())
        if expected is None or abs(t_ms - expected) > RESYNC_MS:
            self._anchor_ms = t_ms - self._fed_ms()
        out: list[AacFrame] = []
        for frame in self.decoder.decode(av.Packet(opus)):
            frame.pts = None
            for chunk in self.resampler.resample(frame):
                out += self._encode(chunk)
        return out

    def _fed_ms(self) -> float:
        return self._samples * 1000 / SAMPLE_RATE

    def _encode(self, chunk: Any) -> list[AacFrame]:
        chunk.pts = self._samples
        chunk.time_base = self.encoder.time_base
        self._samples += chunk.samples
        anchor = self._anchor_ms or 0.0
        return [AacFrame(bytes(packet), anchor + packet.pts * 1000 / SAMPLE_RATE)
                for packet in self.encoder.encode(chunk)]
