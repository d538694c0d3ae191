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
import math
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import av
import pylibsrtp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import RTCCertificate
from aiortc.rtp import (
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSrPacket,
    is_rtcp,
)

from streaming import aiortc_hooks, rtp_header
from streaming.keyframe import detector

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)


@functools.cache
def clip(
    codec: str,
    frames: int = 60,
    gop: int = 30,
    size: tuple[int, int] = (160, 120),
    h264_profile: str = "baseline",
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
        # x264 signals the lowest profile its tools need: ultrafast has no CABAC (Main) and no
        # 8x8 transform (High), so any other profile takes a preset that uses them
        preset = "ultrafast" if h264_profile == "baseline" else "veryfast"
        ctx.options = {"profile": h264_profile, "tune": "zerolatency", "preset": preset}
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


class ToneTrack(MediaStreamTrack):
    """20 ms frames of a 440 Hz tone (mono s16, 48 kHz) that aiortc encodes to Opus, writing
    each packet's RFC 6464 level when negotiated. ``amplitude`` (0..1 of full scale; 0 is
    silence) may change while it plays: a publisher that starts or stops speaking."""

    kind = "audio"

    def __init__(self, amplitude: float) -> None:
        super().__init__()
        self.amplitude = amplitude
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> Any:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._index * 0.02 - time.monotonic()))
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(_tone(round(self.amplitude * 32767)))
        frame.sample_rate = 48000
        frame.pts = self._index * 960
        frame.time_base = fractions.Fraction(1, 48000)
        self._index += 1
        return frame


@functools.cache
def _tone(peak: int) -> bytes:
    samples = (round(peak * math.sin(2 * math.pi * 440 * n / 48000)) for n in range(960))
    return struct.pack("<960h", *samples)


@dataclass
class Received:
    """What a recording viewer got for one SSRC, in arrival order."""

    kind: str
    codec: str
    ssrc: int = 0
    packets: list[tuple[int, int, bool, bytes]] = field(
        default_factory=list
    )  # seq, ts, key, payload: media packets only
    # every sequence number in arrival order, padding-only packets (probes, issue 14 §3) too:
    # they take numbers in the stream but carry no media
    arrivals: list[int] = field(default_factory=list)
    padding: int = 0

    @property
    def sequences(self) -> list[int]:
        return self.arrivals


def contiguous(sequences: list[int]) -> bool:
    """True if every sequence number is the previous plus one (mod 2^16)."""
    return all((b - a) % 65536 == 1 for a, b in itertools.pairwise(sequences))


class Viewer:
    """An aiortc viewer that records decrypted RTP per kind (and still decodes, like a player)."""

    def __init__(self, certificate: RTCCertificate | None = None) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        if certificate is not None:
            aiortc_hooks.use_certificate(self.pc, certificate)
        self.received: dict[str, Received] = {}
        self.tracks: list[MediaStreamTrack] = []
        self.ended: dict[str, asyncio.Event] = {}
        self.frames: dict[str, int] = {}
        self.sender_reports: list[Any] = []
        self.descriptions: list[Any] = []  # RTCP SDES chunks
        self._tasks: list[asyncio.Future[None]] = []
        self._kinds: dict[int, tuple[str, str]] = {}
        self.peer_id = ""
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
        await self.take_answer_side()

    async def take_answer_side(self) -> None:
        """Start recording once the negotiated codecs are known."""
        for transceiver in self.pc.getTransceivers():
            for codec in transceiver._codecs:
                self._kinds[codec.payloadType] = (transceiver.kind, codec.mimeType)
        dtls = self.pc.getTransceivers()[0].receiver.transport
        original = dtls._handle_rtp_data
        aiortc_hooks.intercept_rtp(dtls, self._recorder(original))
        original_rtcp = dtls._handle_rtcp_data

        async def on_rtcp(data: bytes) -> None:
            for packet in RtcpPacket.parse(data):
                if isinstance(packet, RtcpSrPacket):
                    self.sender_reports.append(packet)
                elif isinstance(packet, RtcpSdesPacket):
                    self.descriptions.extend(packet.chunks)
            await original_rtcp(data)

        aiortc_hooks.intercept_rtcp(dtls, on_rtcp)

    def _recorder(
        self, original: Callable[[bytes, int], Awaitable[None]]
    ) -> Callable[[bytes, int], Awaitable[None]]:
        async def record(data: bytes, arrival_time_ms: int) -> None:
            h = rtp_header.parse(data)
            kind, mime = self._kinds.get(h.payload_type, ("?", "?"))
            entry = self.received.setdefault(kind, Received(kind, mime))
            entry.ssrc = h.ssrc
            entry.arrivals.append(h.sequence)
            if h.payload_end <= h.payload_offset:
                entry.padding += 1  # a probe's padding: no media to count
                await original(data, arrival_time_ms)
                return
            key = detector(mime)(data, h.payload_offset, h.payload_end)
            entry.packets.append(
                (h.sequence, h.timestamp, key, data[h.payload_offset : h.payload_end])
            )
            await original(data, arrival_time_ms)

        return record

    def lose(self, sequences: set[int]) -> None:
        """Lose these video packets on the network, before SRTP sees them (once each)."""
        dtls = self.pc.getTransceivers()[0].receiver.transport
        video_pts = {pt for pt, (kind, _) in self._kinds.items() if kind == "video"}
        dtls._rx_srtp = _LossySession(dtls._rx_srtp, sequences, video_pts)

    def send_pli(self) -> None:
        """Ask for a keyframe, as a player does after a decoding error (RFC 4585 §6.3.1)."""
        entry = self.received["video"]
        media_ssrc = entry.ssrc
        packet = RtcpPsfbPacket(fmt=1, ssrc=1234, media_ssrc=media_ssrc)
        dtls = self.pc.getTransceivers()[0].receiver.transport
        self._tasks.append(asyncio.ensure_future(dtls._send_rtp(bytes(packet))))

    def pause(self) -> None:
        """Stop reading the socket, like a stalled player: datagrams pile up and overflow."""
        dtls = self.pc.getTransceivers()[0].receiver.transport
        for pair in dtls.transport._connection._nominated.values():
            pair.protocol.transport.pause_reading()

    def count(self, kind: str) -> int:
        entry = self.received.get(kind)
        return len(entry.packets) if entry else 0

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class _LossySession:
    """Wraps the viewer's SRTP session: chosen packets vanish as if lost on the wire.

    The RTP header is in clear in SRTP (RFC 3711 §3.1), so the sequence number is readable.
    """

    def __init__(self, session: Any, sequences: set[int], payload_types: set[int]) -> None:
        self._session = session
        self.remaining = set(sequences)
        self._pts = payload_types

    def unprotect(self, data: bytes) -> bytes:
        seq = int.from_bytes(data[2:4], "big")
        if data[1] & 0x7F in self._pts and seq in self.remaining:
            self.remaining.discard(seq)
            raise pylibsrtp.Error("lost on the network (test)")
        return bytes(self._session.unprotect(data))

    def unprotect_rtcp(self, data: bytes) -> bytes:
        return bytes(self._session.unprotect_rtcp(data))


class Publisher:
    """An aiortc publisher of a pre-encoded video clip plus silent Opus audio."""

    def __init__(
        self,
        codec: str = "vp8",
        fps: int = 30,
        audio: bool = True,
        gop: int = 30,
        frames: int = 60,
        size: tuple[int, int] = (160, 120),
        certificate: RTCCertificate | None = None,
        h264_profile: str = "baseline",
        audio_track: MediaStreamTrack | None = None,
    ) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        if certificate is not None:  # before addTransceiver: its DTLS transport takes it
            aiortc_hooks.use_certificate(self.pc, certificate)
        self.codec = codec
        packets = clip(codec, frames=frames, gop=gop, size=size, h264_profile=h264_profile)
        track = ClipTrack(packets, fps)
        video = self.pc.addTransceiver(track, direction="sendonly")
        from aiortc.rtcrtpsender import RTCRtpSender

        wanted = [
            c for c in RTCRtpSender.getCapabilities("video").codecs if c.name.lower() == codec
        ]
        video.setCodecPreferences(wanted[:1])
        if audio:
            self.pc.addTransceiver(audio_track or SilenceTrack(), direction="sendonly")
        self.peer_id = ""
        self.feedback: dict[str, int] = {}  # rr, nack, pli, fir, remb: RTCP the server sent us
        self.pli_times: list[float] = []
        self.answer_sdp = ""
        self.retransmitted = 0
        self.video_payloads: set[bytes] = set()  # every video RTP payload sent, in clear
        self._lose = 0
        self._sent: set[tuple[int, int]] = set()

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        dtls = self.pc.getTransceivers()[0].sender.transport
        video_pt = self.pc.getTransceivers()[0]._codecs[0].payloadType
        original_rtcp = dtls._handle_rtcp_data
        original_send = dtls._send_rtp

        async def on_rtcp(data: bytes) -> None:
            for packet in RtcpPacket.parse(data):
                name = _feedback_name(packet)
                self.feedback[name] = self.feedback.get(name, 0) + 1
                if name == "pli":
                    self.pli_times.append(asyncio.get_running_loop().time())
            await original_rtcp(data)

        async def send(data: bytes) -> None:
            if not is_rtcp(data):
                h = rtp_header.parse(data)
                if (h.ssrc, h.sequence) in self._sent:
                    self.retransmitted += 1
                self._sent.add((h.ssrc, h.sequence))
                if h.payload_type == video_pt:
                    self.video_payloads.add(data[h.payload_offset : h.payload_end])
                if self._lose and h.payload_type == video_pt:
                    self._lose -= 1
                    return  # lost on the way to the server
            await original_send(data)

        aiortc_hooks.intercept_rtcp(dtls, on_rtcp)
        dtls._send_rtp = send

    def lose_next(self, count: int) -> None:
        """Drop the next ``count`` video packets before they reach the network."""
        self._lose = count

    async def close(self) -> None:
        await self.pc.close()


def _feedback_name(packet: Any) -> str:
    if isinstance(packet, RtcpRrPacket):
        return "rr"
    if isinstance(packet, RtcpRtpfbPacket):
        return "nack"
    if isinstance(packet, RtcpPsfbPacket):
        return {1: "pli", 4: "fir", 15: "remb"}.get(packet.fmt, "psfb")
    return type(packet).__name__


async def until(predicate: Callable[[], bool], within: float = 20.0, step: float = 0.05) -> None:
    """Wait for ``predicate`` (a condition on real traffic), failing with a clear message."""
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(step)


async def publish(
    plane: Any,
    room: str,
    participant: str = "alice",
    munge: Callable[[str], str] = lambda sdp: sdp,
    unmunge: Callable[[str], str] = lambda sdp: sdp,
    **kwargs: Any,
) -> Publisher:
    """A connected publisher whose tracks are Sources of ``room`` (``munge``: edit the offer)."""
    publisher = Publisher(**kwargs)
    answer = await plane.publish(room, participant, munge(await publisher.offer()))
    publisher.answer_sdp = answer.sdp
    await publisher.accept(unmunge(answer.sdp))
    publisher.peer_id = answer.peer_id
    await until(lambda: any(s.packets > 0 for s in plane.live_sources(room).values()))
    return publisher


async def watch(plane: Any, room: str, viewer_name: str = "viewer") -> Viewer:
    """A connected WHEP-style viewer of ``room``."""
    viewer = Viewer()
    answer = await plane.subscribe_whep(room, viewer_name, await viewer.offer())
    await viewer.accept(answer.sdp)
    viewer.peer_id = answer.peer_id
    return viewer


async def watch_offered(plane: Any, room: str, source_ids: list[str] | None = None) -> Viewer:
    """A viewer the server offers to (the browser protocol): the viewer answers."""
    viewer = Viewer()
    offer = await plane.offer_to_viewer(room, "browser", source_ids)
    await viewer.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
    await viewer.pc.setLocalDescription(await viewer.pc.createAnswer())
    await viewer.take_answer_side()
    await plane.accept_answer(offer.peer_id, viewer.pc.localDescription.sdp)
    viewer.peer_id = offer.peer_id
    return viewer
