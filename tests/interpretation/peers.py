"""Real aiortc peers that tell voices apart: each publisher sends its own sine tone (aiortc
encodes it to Opus), each listener decodes what it receives and measures, per decoded 20 ms
frame, the tone's strength at chosen frequencies (a Goertzel filter, pure Python: no numpy here),
and records every received RTP packet's arrival time, sequence number, timestamp and SSRC."""

from __future__ import annotations

import asyncio
import fractions
import functools
import math
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streaming import aiortc_hooks, rtp_header
from tests.streaming.clients import ClipTrack, clip

RATE = 48_000
TONES = (440, 660, 880, 990)  # the floor, then one per interpreter


class SineTrack(MediaStreamTrack):
    """20 ms mono s16 frames of a ``hz`` sine at half scale, paced in real time."""

    kind = "audio"

    def __init__(self, hz: int) -> None:
        super().__init__()
        self.hz = hz
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> Any:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._index * 0.02 - time.monotonic()))
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(_sine(self.hz, self._index % (RATE // math.gcd(RATE, self.hz))))
        frame.sample_rate = RATE
        frame.pts = self._index * 960
        frame.time_base = fractions.Fraction(1, RATE)
        self._index += 1
        return frame


@functools.cache
def _sine(hz: int, phase_frames: int) -> bytes:
    start = phase_frames * 960
    return struct.pack("<960h", *(round(16_000 * math.sin(2 * math.pi * hz * (start + n) / RATE))
                                  for n in range(960)))


def goertzel(samples: list[int], hz: int, rate: int = RATE) -> float:
    """The power of ``hz`` in ``samples``, normalised by their count (Goertzel, 1958)."""
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / max(1, len(samples)) ** 2


def loudest(samples: list[int]) -> int | None:
    """Which of :data:`TONES` the frame carries, or None for silence (or noise)."""
    powers = {hz: goertzel(samples, hz) for hz in TONES}
    hz = max(powers, key=lambda k: powers[k])
    return hz if powers[hz] > 1e4 else None


class Talker:
    """A publisher of one tone (audio only), or of a tone and a video clip (``video``)."""

    def __init__(self, hz: int, *, video: bool = False) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        if video:
            self.pc.addTransceiver(ClipTrack(clip("vp8")), direction="sendonly")
        self.pc.addTransceiver(SineTrack(hz), direction="sendonly")
        self.peer_id = ""

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        await self.pc.close()


@dataclass(frozen=True)
class Arrival:
    at: float
    ssrc: int
    seq: int
    ts: int


class Listener:
    """A recvonly audio peer: what it decodes (the tone of each frame) and what arrived.

    It bundles everything from the start (max-bundle, as browsers do in practice): aiortc's
    default "balanced" policy loses a second audio m-line's transport when it bundles."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(
            iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        # per audio track, in the order of the m-lines: (when, tone) per decoded frame
        self.heard: list[list[tuple[float, int | None]]] = []
        self.arrivals: list[Arrival] = []
        self.tracks: list[MediaStreamTrack] = []
        self._tasks: list[asyncio.Future[None]] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.tracks.append(track)
        if track.kind == "audio":
            self.heard.append([])
            self._tasks.append(asyncio.ensure_future(self._play(track, self.heard[-1])))

    async def _play(self, track: MediaStreamTrack, heard: list[tuple[float, int | None]]
                    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await track.recv()
                heard.append((loop.time(), loudest(_left(frame))))
        except MediaStreamError:
            return

    async def offer(self, audio: int = 1, video: bool = False) -> str:
        if video:
            self.pc.addTransceiver("video", direction="recvonly")
        for _ in range(audio):
            self.pc.addTransceiver("audio", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        dtls = self.pc.getTransceivers()[0].receiver.transport
        aiortc_hooks.intercept_rtp(dtls, self._recorder(dtls._handle_rtp_data))

    def _recorder(self, original: Callable[[bytes, int], Awaitable[None]]
                  ) -> Callable[[bytes, int], Awaitable[None]]:
        loop = asyncio.get_running_loop()

        async def record(data: bytes, arrival_time_ms: int) -> None:
            h = rtp_header.parse(data)
            if h.payload_end > h.payload_offset:
                self.arrivals.append(Arrival(loop.time(), h.ssrc, h.sequence, h.timestamp))
            await original(data, arrival_time_ms)

        return record

    def tones_since(self, since: float, track: int = 0) -> list[int | None]:
        heard = self.heard[track] if track < len(self.heard) else []
        return [tone for at, tone in heard if at >= since]

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _left(frame: Any) -> list[int]:
    """The first channel's samples of a decoded s16 frame (aiortc decodes Opus to stereo)."""
    data = bytes(frame.planes[0])
    count = len(data) // 2
    samples = struct.unpack(f"<{count}h", data[: count * 2])
    channels = len(frame.layout.channels)
    return list(samples[::channels])
