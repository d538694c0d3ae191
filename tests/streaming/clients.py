"""Real aiortc peers for media-plane tests: publishers of pre-encoded clips and recording viewers.

Publishers send pre-encoded packets (aiortc packetizes an ``av.Packet`` without encoding), so a
test costs little CPU. Viewers record every RTP packet *after* SRTP unprotect, so broken SRTP or
a broken header shows up as missing packets, not as a count that looks right.
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streaming import aiortc_hooks, rtp_header
from streaming.keyframe import detector

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)


@functools.cache
def clip(
    codec: str, frames: int = 60, gop: int = 30, size: tuple[int, int] = (160, 120)
) -> tuple[bytes, ...]:
    """``frames`` encoded video frames (VP8 or H264), a keyframe every ``gop`` frames."""
    name = {"vp8": "libvpx", "h264": "libx264"}[codec]
    ctx = av.CodecContext.create(name, "w")
    ctx.width, ctx.height = size
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = fractions.Fraction(1, 30)
    ctx.framerate = fractions.Fraction(30, 1)
    ctx.gop_size = gop
    ctx.bit_rate = 300_000
    if codec == "h264":
        ctx.options = {"profile": "baseline", "tune": "zerolatency", "preset": "ultrafast"}
    else:
        ctx.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets: list[bytes] = []
    for index in range(frames):
        frame = av.VideoFrame(size[0], size[1], "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([(index * 7 + plane.line_size) % 256]) * plane.buffer_size)
        frame.pts = index
        frame.pict_type = (
            av.video.frame.PictureType.I if index % gop == 0 else av.video.frame.PictureType.NONE
        )
        packets.extend(bytes(p) for p in ctx.encode(frame))
    packets.extend(bytes(p) for p in ctx.encode(None))
    return tuple(packets)


class ClipTrack(MediaStreamTrack):
    """A video track that replays an encoded clip at ``fps`` as ``av.Packet``s (no encoding)."""

    kind = "video"

    def __init__(self, packets: tuple[bytes, ...], fps: int = 30) -> None:
        super().__init__()
        self._packets = packets
        self._fps = fps
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> Any:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._index / self._fps
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        packet = av.Packet(self._packets[self._index % len(self._packets)])
        packet.pts = self._index * (90000 // self._fps)
        packet.time_base = VIDEO_TIME_BASE
        self._index += 1
        return packet


class SilenceTrack(MediaStreamTrack):
    """20 ms Opus packets of silence, without an encoder (the Opus TOC for a silent frame)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> Any:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._index * 0.02 - time.monotonic()))
        packet = av.Packet(b"\xf8\xff\xfe")  # RFC 6716 §3.1: CELT FB 20 ms, one frame, DTX-like
        packet.pts = self._index * 960
        packet.time_base = fractions.Fraction(1, 48000)
        self._index += 1
        return packet


@dataclass
class Received:
    """What a recording viewer got for one SSRC, in arrival order."""

    kind: str
    codec: str
    packets: list[tuple[int, int, bool, bytes]] = field(
        default_factory=list
    )  # seq, ts, key, payload

    @property
    def sequences(self) -> list[int]:
        return [p[0] for p in self.packets]


def contiguous(sequences: list[int]) -> bool:
    """True if every sequence number is the previous plus one (mod 2^16)."""
    return all((b - a) % 65536 == 1 for a, b in itertools.pairwise(sequences))


class Viewer:
    """An aiortc viewer that records decrypted RTP per kind (and still decodes, like a player)."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.received: dict[str, Received] = {}
        self.tracks: list[MediaStreamTrack] = []
        self.ended: dict[str, asyncio.Event] = {}
        self.frames: dict[str, int] = {}
        self._tasks: list[asyncio.Future[None]] = []
        self._kinds: dict[int, tuple[str, str]] = {}
        self.drop: Callable[[int], bool] = lambda seq: False
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.tracks.append(track)
        self.ended.setdefault(track.kind, asyncio.Event())
        self.frames.setdefault(track.kind, 0)
        self._tasks.append(asyncio.ensure_future(self._play(track)))

    async def _play(self, track: MediaStreamTrack) -> None:
        """Decode like a player: count frames until the track ends (RTCP BYE or close)."""
        try:
            while True:
                await track.recv()
                self.frames[track.kind] += 1
        except MediaStreamError:
            self.ended[track.kind].set()

    async def offer(self, kinds: tuple[str, ...] = ("audio", "video")) -> str:
        for kind in kinds:
            self.pc.addTransceiver(kind, direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        for transceiver in self.pc.getTransceivers():
            for codec in transceiver._codecs:
                self._kinds[codec.payloadType] = (transceiver.kind, codec.mimeType)
        dtls = self.pc.getTransceivers()[0].receiver.transport
        original = dtls._handle_rtp_data
        aiortc_hooks.intercept_rtp(dtls, self._recorder(original))

    def _recorder(
        self, original: Callable[[bytes, int], Awaitable[None]]
    ) -> Callable[[bytes, int], Awaitable[None]]:
        async def record(data: bytes, arrival_time_ms: int) -> None:
            h = rtp_header.parse(data)
            kind, mime = self._kinds.get(h.payload_type, ("?", "?"))
            if self.drop(h.sequence) and kind == "video":
                return  # induced loss: as if the network dropped it
            entry = self.received.setdefault(kind, Received(kind, mime))
            key = detector(mime)(data, h.payload_offset, h.payload_end)
            entry.packets.append(
                (h.sequence, h.timestamp, key, data[h.payload_offset : h.payload_end])
            )
            await original(data, arrival_time_ms)

        return record

    def count(self, kind: str) -> int:
        entry = self.received.get(kind)
        return len(entry.packets) if entry else 0

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class Publisher:
    """An aiortc publisher of a pre-encoded video clip plus silent Opus audio."""

    def __init__(self, codec: str = "vp8", fps: int = 30, audio: bool = True) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.codec = codec
        video = self.pc.addTransceiver(ClipTrack(clip(codec), fps), direction="sendonly")
        from aiortc.rtcrtpsender import RTCRtpSender

        wanted = [
            c for c in RTCRtpSender.getCapabilities("video").codecs if c.name.lower() == codec
        ]
        video.setCodecPreferences(wanted[:1])
        if audio:
            self.pc.addTransceiver(SilenceTrack(), direction="sendonly")
        self.rtcp: list[Any] = []

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        await self.pc.close()


async def until(predicate: Callable[[], bool], within: float = 20.0, step: float = 0.05) -> None:
    """Wait for ``predicate`` (a condition on real traffic), failing with a clear message."""
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(step)
