"""The program recording's audio: every speaker's Opus mixed into one Opus stream (issue 15 §1).

Video is never decoded; audio is, because a program file has one audio track for several
speakers. Each track's Opus frames are decoded (libopus, 48 kHz stereo s16), placed on a common
clock by their presentation time, summed per 20 ms with clipping (:mod:`streaming.pcm_mixer`),
and the sum is encoded again (libopus). It is plain synchronous code for the recording's
writer thread (DESIGN.md §8: CPU work off the event loop); one instance per program recording,
used by one thread.

Timing: an output frame is mixed once every live track has reached its end, or once the
furthest track is ``max_wait_s`` past it (a late or silent track does not hold the mix longer;
what it sends for a time already mixed is dropped). A track's gaps are silence, and so is a
time no track covers, up to ``max_silence_s``; past that the output jumps (its timestamps keep
the gap) instead of encoding minutes of nothing.
"""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import av
from av.audio.codeccontext import AudioCodecContext

from streaming.frames import Frame
from streaming.pcm_mixer import (
    CHANNELS,
    FRAME_BYTES,
    FRAME_SAMPLES,
    SAMPLE_RATE,  # RFC 7587 §4.1: Opus in RTP always counts 48 kHz
    TIME_BASE,
    PcmMixer,
)

SNAP_SAMPLES = 240  # a frame within 5 ms of where its track ended continues it seamlessly


@dataclass(slots=True)
class _Segment:
    """Decoded samples (interleaved stereo s16) from tick ``start``."""

    start: int
    pcm: array[int]

    @property
    def end(self) -> int:
        return self.start + len(self.pcm) // CHANNELS


@dataclass(slots=True)
class _Track:
    """One speaker: a decoder and what it decoded that is not mixed yet."""

    decoder: AudioCodecContext
    end: int  # where the last decoded frame ended (kept after it is mixed)
    segments: deque[_Segment] = field(default_factory=deque)
    ended: bool = False

    def put(self, pcm: array[int], tick: int, floor: int) -> None:
        """Add decoded samples at ``tick``; samples before ``floor`` are already mixed."""
        gap = tick - self.end
        if abs(gap) <= SNAP_SAMPLES and self.segments:
            tick = self.end  # the same stream a few samples off: keep it seamless
        elif gap < 0:
            del pcm[: min(-gap, len(pcm) // CHANNELS) * CHANNELS]  # overlap: the old stays
            tick = self.end
        if tick < floor:
            del pcm[: min(floor - tick, len(pcm) // CHANNELS) * CHANNELS]
            tick = floor
        if not pcm:
            return
        last = self.segments[-1] if self.segments else None
        if last is not None and last.end == tick:
            last.pcm.extend(pcm)
        else:
            self.segments.append(_Segment(tick, pcm))
        self.end = tick + len(pcm) // CHANNELS

    def take(self, tick: int) -> bytes | None:
        """The samples of ``[tick, tick + FRAME_SAMPLES)``, silence where it has none; ``None``
        if it has none at all."""
        stop = tick + FRAME_SAMPLES
        out: array[int] | None = None
        while self.segments and self.segments[0].start < stop:
            segment = self.segments[0]
            if out is None:
                out = array("h", bytes(FRAME_BYTES))
            begin, end = max(segment.start, tick), min(segment.end, stop)
            if end > begin:
                src = (begin - segment.start) * CHANNELS
                out[(begin - tick) * CHANNELS : (end - tick) * CHANNELS] = segment.pcm[
                    src : src + (end - begin) * CHANNELS]
            if segment.end > stop:
                del segment.pcm[: (stop - segment.start) * CHANNELS]
                segment.start = stop
                break
            self.segments.popleft()
        return None if out is None else out.tobytes()


class AudioMix:
    """Opus frames of several tracks in, one mixed Opus stream out (48 kHz stereo, 20 ms).

    :meth:`push` takes one Opus packet of a track with its presentation time in seconds on the
    recording's clock and returns the mixed frames that became ready: :class:`Frame` objects
    whose ``ts`` is the frame's start in 48 kHz ticks of that clock. :attr:`extradata` is the
    encoder's OpusHead (RFC 7845 §5.1) for the muxer: its pre-skip trims the encoder's
    look-ahead, so the mix lines up with the tracks' times.
    """

    def __init__(
        self, *, bitrate: int = 64_000, max_wait_s: float = 0.2, max_silence_s: float = 5.0
    ) -> None:
        self._encoder = _encoder(bitrate)
        self._mixer = PcmMixer()
        self._tracks: dict[str, _Track] = {}
        self._pos: int | None = None  # where the next output frame starts
        self._max_wait = round(max_wait_s * SAMPLE_RATE)
        self._max_silence = round(max_silence_s * SAMPLE_RATE)
        self._queued: deque[int] = deque()  # the ticks of frames the encoder has not returned
        self._last_ts = 0
        self._closed = False

    @property
    def extradata(self) -> bytes:
        return bytes(self._encoder.extradata or b"")

    def push(self, track: str, opus: bytes, at: float) -> list[Frame]:
        """Add one Opus packet of ``track`` presented at ``at`` seconds; the frames now mixed.

        A packet the decoder rejects is dropped (its time stays silent): the stream goes on.
        """
        if self._closed:
            raise RuntimeError("the audio mix is closed")
        if not opus:
            return []  # an empty packet would tell the decoder that its stream ended
        tick = round(at * SAMPLE_RATE)
        state = self._tracks.get(track)
        if state is None:
            state = self._tracks[track] = _Track(_decoder(), tick)
        state.ended = False  # back before what it left was mixed: the same track goes on
        if self._pos is None:
            self._pos = tick
        try:
            frames = state.decoder.decode(av.Packet(opus))
        except (av.FFmpegError, ValueError):
            return self._drain(final=False)
        for frame in frames:
            pcm = array("h", bytes(frame.planes[0])[: frame.samples * CHANNELS * 2])
            state.put(pcm, tick, self._pos)
            tick += frame.samples
        return self._drain(final=False)

    def end_track(self, track: str) -> list[Frame]:
        """``track`` sends no more (its speaker left): the mix stops waiting for it."""
        state = self._tracks.get(track)
        if state is not None:
            state.ended = True
        return self._drain(final=False)

    def close(self) -> list[Frame]:
        """Mix everything still held and flush the encoder: the last frames of the stream.

        Nothing may be pushed after it; a second call returns nothing."""
        if self._closed:
            return []
        self._closed = True
        for state in self._tracks.values():
            state.ended = True
        out = self._drain(final=True)
        return out + self._encoded(self._encoder.encode(None))

    def _drain(self, final: bool) -> list[Frame]:
        out: list[Frame] = []
        while self._ready(final):
            out += self._mix_one()
        for name in [n for n, t in self._tracks.items() if t.ended and not t.segments]:
            del self._tracks[name]
        return out

    def _ready(self, final: bool) -> bool:
        """Whether the frame at ``_pos`` can be mixed now (see the module's "Timing")."""
        if self._pos is None or not any(t.segments for t in self._tracks.values()):
            return False
        need = self._pos + FRAME_SAMPLES
        if final or all(t.ended or t.end >= need for t in self._tracks.values()):
            return True
        return max(t.end for t in self._tracks.values()) >= need + self._max_wait

    def _mix_one(self) -> list[Frame]:
        assert self._pos is not None
        first = min(t.segments[0].start for t in self._tracks.values() if t.segments)
        if first >= self._pos + self._max_silence:
            self._pos = first  # nobody spoke for a long time: jump, the timestamps keep the gap
        parts = [pcm for t in self._tracks.values() if (pcm := t.take(self._pos)) is not None]
        pts, self._pos = self._pos, self._pos + FRAME_SAMPLES
        return self._encode(self._mixer.mix(parts), pts)

    def _encode(self, pcm: bytes, pts: int) -> list[Frame]:
        frame = av.AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
        frame.planes[0].update(pcm)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts
        frame.time_base = TIME_BASE
        self._queued.append(pts)
        return self._encoded(self._encoder.encode(frame))

    def _encoded(self, packets: list[av.Packet[Any]]) -> list[Frame]:
        """Each packet at the time of the frame it came from (the tail: right after the last)."""
        out = []
        for packet in packets:
            ts = self._queued.popleft() if self._queued else self._last_ts + FRAME_SAMPLES
            self._last_ts = ts
            out.append(Frame(bytes(packet), ts, True))
        return out


def _decoder() -> AudioCodecContext:
    decoder = av.CodecContext.create("libopus", "r")
    decoder.format = "s16"
    decoder.layout = "stereo"  # mono tracks come out on both channels
    decoder.sample_rate = SAMPLE_RATE
    return decoder


def _encoder(bitrate: int) -> AudioCodecContext:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.format = "s16"
    encoder.layout = "stereo"
    encoder.sample_rate = SAMPLE_RATE
    encoder.time_base = TIME_BASE
    encoder.bit_rate = bitrate
    encoder.options = {"application": "audio"}  # a mix of voices and whatever else is on stage
    return encoder
