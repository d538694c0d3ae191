"""``VideoTranscoder``: VP8 (or a forum's switched program) → one H264 stream per ladder rung.

Issue 16 §2; docs/hls.md §7. H264 publishers are packaged as they arrive; this is for the
rest: a VP8 publisher, once per broadcast, and a forum's program (the active speaker's picture,
whatever each speaker sends). It runs on the packager's thread, never on the event loop: a
720p frame costs milliseconds of libx264.

Contract, per :meth:`VideoTranscoder.push`:

* Decoding: PyAV's ``vp8`` / ``h264`` decoders, one per source, single-threaded (frame threads
  would add a frame of delay per thread). A source's frames are used from its first keyframe;
  a decoding error drops that source's frames until its next keyframe and never raises.
* Program: only the selected source is decoded. :meth:`select` takes effect at the new
  source's next keyframe (until then the old one stays on air), so the output is one
  continuous H264 stream with one SPS per rung: the playlist needs no discontinuity.
* Rungs (:mod:`streaming.hls.rung`): each ladder height, never above the input's height, the
  input's aspect, even width, fixed by the first frame on air. Later input sizes (a simulcast
  layer switch, another speaker) are scaled to the rung's size. Rungs that come out the same
  size share one encoder and return the same access units.
* Timing: variable frame rate. Each output picture keeps its input time (``t_ms``, 90 kHz
  pts); nothing is dropped or duplicated to make 30 fps, since HLS and hls.js play VFR and a
  CFR filler would only add bytes. A frame whose time is not after the last one on air is
  dropped (times must increase for the segmenter).
* Encoding: libx264, ``tune=zerolatency`` (no lookahead, no B-frames: each push returns the
  access units of the frame it took), CRF 23 under a VBV cap per rung height, SPS/PPS repeated
  before every IDR (``repeat-headers``), IDRs exactly at the :class:`~streaming.hls.rung.KeyClock`
  boundaries (``keyint_s`` apart on the media timeline) and nowhere else (no scene cut, no
  encoder keyint), the same frames on every rung: keyframes align across rungs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
from av.codec.context import CodecContext
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType, VideoFrame
from av.video.reformatter import VideoReformatter

from streaming.frames import Frame
from streaming.hls.rung import KeyClock, RungSize, max_kbps, rung_size

DECODERS = {"vp8": "vp8", "h264": "h264"}
_TICKS_PER_MS = 90  # output pts in 1/90000 s, the RTP video clock
_CRF = "23"


@dataclass(frozen=True, slots=True)
class Encoded:
    """One H264 access unit in Annex B form (SPS/PPS before each IDR), at media time ``t_ms``."""

    data: bytes
    t_ms: float
    keyframe: bool
    width: int
    height: int


class _Input:
    """One source's decoder, and whether it waits for a keyframe (start, or after an error)."""

    def __init__(self, codec: str) -> None:
        if codec not in DECODERS:
            raise ValueError(f"cannot transcode {codec!r} video (vp8 or h264)")
        self.codec = codec
        self.decoder = _decoder(codec)
        self.waiting = True

    def decode(self, frame: Frame, t_ms: float) -> list[VideoFrame]:
        """The pictures ``frame`` completes; none (and wait for a keyframe) on a decoding error."""
        if self.waiting and not frame.keyframe:
            return []
        packet = av.Packet(frame.data)
        packet.pts = round(t_ms * _TICKS_PER_MS)
        try:
            pictures = [p for p in self.decoder.decode(packet) if isinstance(p, VideoFrame)]
        except (av.FFmpegError, ValueError):
            self.waiting = True
            self.decoder = _decoder(self.codec)  # a clean state for the next keyframe
            return []
        self.waiting = False
        return pictures


class _Encoder:
    """libx264 at one size, with its own scaler (which reconfigures when the input size does)."""

    def __init__(self, size: RungSize, preset: str, keyint_frames: int) -> None:
        self.size = size
        self.scaler = VideoReformatter()
        self.context = _encoder(size, preset, keyint_frames)

    def encode(self, picture: VideoFrame | None, pts: int, idr: bool) -> list[Encoded]:
        """Encode ``picture`` at ``pts`` (an IDR when ``idr``); None flushes."""
        scaled: VideoFrame | None = None
        if picture is not None:
            scaled = self.scaler.reformat(picture, self.size.width, self.size.height, "yuv420p",
                                          threads=1)
            if scaled is picture:  # same size and format: do not touch the decoder's frame
                scaled = picture.reformat(format="yuv420p")
            scaled.pts = pts
            scaled.pict_type = PictureType.I if idr else PictureType.NONE
        return [Encoded(bytes(p), (p.pts or 0) / _TICKS_PER_MS, p.is_keyframe, self.size.width,
                        self.size.height) for p in self.context.encode(scaled)]


class VideoTranscoder:
    """One program's pictures → H264 at each ladder height. Used by one thread (the packager's),
    never the event loop; see the module docstring for the contract."""

    def __init__(self, heights: Sequence[int], preset: str, keyint_s: float) -> None:
        if not heights:
            raise ValueError("a ladder needs at least one height")
        self._heights = list(heights)
        self._preset = preset
        self._keyint_frames = max(1, round(keyint_s * 30))
        self._keys = KeyClock(keyint_s * 1000)
        self._inputs: dict[str, _Input] = {}
        self._program: str | None = None
        self._pending: str | None = None
        self._encoders: list[_Encoder] = []
        self._rung_encoder: list[int] = []
        self._last_pts = -1
        self._closed = False

    @property
    def sizes(self) -> list[RungSize]:
        """Each rung's output size, in ladder order; empty until the first frame is on air."""
        return [self._encoders[i].size for i in self._rung_encoder]

    def select(self, source: str) -> None:
        """Put ``source`` on air from its next keyframe on (a forum's active speaker)."""
        self._pending = None if source == self._program else source

    def wants_keyframe(self, source: str) -> bool:
        """Whether ``source`` needs a keyframe to go (back) on air: the source :meth:`select`
        named, until its keyframe; the program after a decoding error. The packager then asks
        its publisher for one (a PLI): WebRTC encoders send keyframes only when asked, so a
        forum's switch would otherwise wait for the new speaker's next spontaneous one."""
        if source == self._pending:
            return True
        current = self._inputs.get(source)
        return source == self._program and current is not None and current.waiting

    def push(self, source: str, codec: str, frame: Frame, t_ms: float) -> list[list[Encoded]]:
        """Take one coded frame of ``source`` (``t_ms``: its presentation time); per rung,
        the access units encoded now."""
        out: list[list[Encoded]] = [[] for _ in self._heights]
        if self._closed:
            return out
        if self._program is None and self._pending is None:
            self._pending = source
        if source not in (self._program, self._pending):
            return out
        switching = source == self._pending
        if switching and not frame.keyframe:
            return out
        decoder = self._input(source, codec)
        pictures = decoder.decode(frame, t_ms)
        if switching and not decoder.waiting:  # its keyframe decoded (its picture may lag)
            self._program, self._pending = source, None
            self._inputs = {source: self._inputs[source]}  # the old program's decoder is done
        if source != self._program:
            return out
        for picture in pictures:
            self._encode(picture, out)
        return out

    def close(self) -> list[list[Encoded]]:
        """Flush the encoders (zerolatency keeps no frames back; this is for completeness)."""
        out: list[list[Encoded]] = [[] for _ in self._heights]
        if not self._closed:
            self._closed = True
            flushed = [encoder.encode(None, 0, False) for encoder in self._encoders]
            for rung, index in enumerate(self._rung_encoder):
                out[rung] = flushed[index]
        return out

    def _input(self, source: str, codec: str) -> _Input:
        current = self._inputs.get(source)
        if current is None or current.codec != codec:
            current = self._inputs[source] = _Input(codec)
        return current

    def _encode(self, picture: VideoFrame, out: list[list[Encoded]]) -> None:
        pts = picture.pts if picture.pts is not None else self._last_pts + 1
        if pts <= self._last_pts:
            return
        self._last_pts = pts
        if not self._encoders:
            self._build(picture.width, picture.height)
        idr = self._keys.due(pts / _TICKS_PER_MS)
        encoded = [encoder.encode(picture, pts, idr) for encoder in self._encoders]
        for rung, index in enumerate(self._rung_encoder):
            out[rung] = encoded[index]

    def _build(self, width: int, height: int) -> None:
        """The rungs' encoders, sized by the first picture on air (equal sizes share one)."""
        sizes = [rung_size(h, width, height) for h in self._heights]
        unique = list(dict.fromkeys(sizes))
        self._encoders = [_Encoder(s, self._preset, self._keyint_frames) for s in unique]
        self._rung_encoder = [unique.index(s) for s in sizes]


def _decoder(codec: str) -> VideoCodecContext:
    context = _video(CodecContext.create(DECODERS[codec], "r"))
    context.thread_count = 1
    return context


def _video(context: CodecContext) -> VideoCodecContext:
    if not isinstance(context, VideoCodecContext):
        raise TypeError(f"{context.name} is not a video codec")
    return context


def _encoder(size: RungSize, preset: str, keyint_frames: int) -> VideoCodecContext:
    """libx264 for one rung: IDRs only when forced (keyint far beyond the forced one, no scene
    cut), in-band SPS/PPS before each IDR, CRF under the rung's VBV cap, one thread."""
    context = _video(CodecContext.create("libx264", "w"))
    context.width, context.height = size.width, size.height
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, 90000)
    context.framerate = Fraction(30, 1)  # a rate-control hint; pts stay the input's (VFR)
    context.gop_size = keyint_frames * 100
    context.thread_count = 1
    cap = max_kbps(size.height)
    context.options = {
        "preset": preset,
        "tune": "zerolatency",
        "crf": _CRF,
        "forced-idr": "1",
        "x264-params": (f"keyint={keyint_frames * 100}:min-keyint=1:scenecut=0:bframes=0:"
                        f"repeat-headers=1:vbv-maxrate={cap}:vbv-bufsize={cap}"),
    }
    return context
