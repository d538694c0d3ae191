"""Muxer: coded frames into one crash-safe WebM or fragmented MP4 file, never decoded.

PyAV (DESIGN.md §3, issue 15 §1): each output stream is a copy of an *unopened* encoder
context (``add_stream_from_template``), so no encoder or decoder ever starts; its codec
parameters (size, OpusHead, SPS/PPS) are set by hand and packets are muxed as they are.

Crash safety (issue 15 §3): WebM is written in clusters of at most ~1 s and flushed; MP4 as
fragments (``empty_moov``, a fragment per keyframe or ~1 s). A process killed mid-file leaves
everything up to the last closed cluster or fragment playable. Everything here is blocking
file I/O: call it from a writer thread, never from the event loop.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.container import OutputContainer
from av.stream import Stream

from streaming.codec_header import opus_head

RATES = {"video": 90000, "audio": 48000}  # the RTP clocks (RFC 7741 §4.1, RFC 7587 §4.1)
NOMINAL_FPS = Fraction(60)
VIDEO_STEP_MS = 17  # > 1000 / NOMINAL_FPS
ENCODERS = {"vp8": "libvpx", "h264": "libx264", "opus": "libopus"}  # only ever templates
OPTIONS = {
    # matroska: close a cluster every second (or 2 MiB) and flush what is written
    "webm": {"cluster_time_limit": "1000", "cluster_size_limit": str(2 << 20),
             "flush_packets": "1"},
    # fragmented MP4 (ISO/IEC 14496-12 §8.8): a moov without samples, then moof+mdat pairs
    "mp4": {"movflags": "frag_keyframe+empty_moov+default_base_moof",
            "frag_duration": "1000000", "flush_packets": "1"},
}
MEDIA_TYPES = {("webm", True): "video/webm", ("webm", False): "audio/webm",
               ("mp4", True): "video/mp4", ("mp4", False): "audio/mp4"}


@dataclass(frozen=True, slots=True)
class TrackFormat:
    """One stream of a file: ``kind`` audio/video, ``codec`` vp8/h264/opus, a video's size,
    and the codec's out-of-band header (``extradata``: OpusHead, or H264 SPS/PPS in Annex B)."""

    kind: str
    codec: str
    width: int = 0
    height: int = 0
    extradata: bytes = b""
    channels: int = 2


def container_for(codecs: Sequence[str], forced: str) -> str:
    """``webm`` or ``mp4``: what ``forced`` says where the codecs allow it (WebM takes no
    H264, MP4 no VP8), else WebM unless the video is H264."""
    natural = "mp4" if "h264" in codecs else "webm"
    if forced in ("webm", "mp4") and not ({"h264", "vp8"} & set(codecs)):
        return forced  # audio only: either
    return natural


class Muxer:
    """One output file; ``write`` frames with their time in ms (sub-ms kept) from the file's
    time 0. Streams count in their RTP clock (video 90 kHz, Opus 48 kHz) where the container
    can (MP4; WebM counts ms), so a 30 fps stream stays exactly 3000 ticks a frame."""

    def __init__(self, path: Path, container: str, tracks: Sequence[TrackFormat]) -> None:
        if container not in OPTIONS:
            raise ValueError(f"unknown container {container!r}")
        self.path = path
        self.container = container
        self.tracks = tuple(tracks)
        self.media_type = MEDIA_TYPES[container, any(t.kind == "video" for t in tracks)]
        self.last_ms = [-1e9] * len(self.tracks)
        self._rates = [RATES[t.kind] for t in self.tracks]
        # a frame never starts before the previous one ends: a video frame lasts the nominal
        # rate's frame time, so a step back (a new RTP stream, the first SR) moves on past it
        self._step = [VIDEO_STEP_MS if t.kind == "video" else 1 for t in self.tracks]
        self.first_ms = -1.0
        # our own file object: PyAV's own open and header writes hold the GIL, so a disk that
        # hangs would freeze the event loop too; Python's file I/O releases it (unbuffered, so
        # each flushed cluster or fragment reaches the OS at once)
        self._file = open(path, "wb", buffering=0)
        try:
            self._out: OutputContainer = av.open(
                self._file, "w", format=container, options=dict(OPTIONS[container])
            )
            self._streams = self._add_streams()
            self._out.start_encoding()
        except BaseException:
            self._file.close()
            raise

    def _add_streams(self) -> list[Stream]:
        templates = av.open(io.BytesIO(), "w", format=self.container)
        streams = []
        for track in self.tracks:
            streams.append(self._add_stream(templates, track))
        return streams

    def _add_stream(self, templates: OutputContainer, track: TrackFormat) -> Stream:
        if track.kind == "audio":
            template: Stream = templates.add_stream(ENCODERS[track.codec], rate=48000)
        else:
            template = templates.add_stream(ENCODERS[track.codec])
        stream = self._out.add_stream_from_template(template)
        ctx = stream.codec_context
        if track.kind == "audio":
            ctx.sample_rate = 48000  # type: ignore[attr-defined]
            ctx.layout = "stereo" if track.channels == 2 else "mono"  # type: ignore[attr-defined]
            ctx.extradata = track.extradata or opus_head(track.channels)
        else:
            ctx.width = track.width  # type: ignore[attr-defined]
            ctx.height = track.height  # type: ignore[attr-defined]
            # the stream's nominal rate only sets a frame's default duration: kept short so a
            # player never sees a frame last past the next one's time (real rates vary)
            ctx.framerate = NOMINAL_FPS  # type: ignore[attr-defined]
            if track.extradata:
                ctx.extradata = track.extradata
        stream.time_base = Fraction(1, RATES[track.kind])
        return stream

    def write(self, track: int, data: bytes, t_ms: float, keyframe: bool) -> None:
        """Mux one frame; a time that does not advance enough is nudged on (a muxer needs
        rising timestamps per stream; an SR correction or a new RTP stream may step back a
        little, and real frames are further apart than the step, so it catches up)."""
        if t_ms < self.last_ms[track] + self._step[track]:
            t_ms = self.last_ms[track] + self._step[track]
        self.last_ms[track] = t_ms
        if self.first_ms < 0:
            self.first_ms = t_ms
        packet = av.Packet(data)
        packet.stream = self._streams[track]
        rate = self._rates[track]
        packet.time_base = Fraction(1, rate)
        packet.pts = packet.dts = round(t_ms * rate / 1000)
        packet.is_keyframe = keyframe
        self._out.mux(packet)

    def opened_codecs(self) -> list[str]:
        """The streams whose codec context was opened: none, ever (issue 15: never decoded)."""
        return [s.codec_context.name for s in self._streams
                if s.codec_context is not None and s.codec_context.is_open]

    @property
    def duration_s(self) -> float:
        """From the file's first frame to its last, as written so far."""
        last = max(self.last_ms)
        return 0.0 if self.first_ms < 0 else (last - self.first_ms) / 1000

    def close(self) -> None:
        """Write the trailer (cues, durations) and close; safe to call twice."""
        try:
            self._out.close()
        finally:
            self._file.close()
