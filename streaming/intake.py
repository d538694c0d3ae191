"""Intake: a peer whose received packets are taken right after SRTP unprotect.

What a publisher leg (streaming/publisher.py) and an upstream leg (an edge pulling a room from
its origin, streaming/upstream.py) share. aiortc's receiver would parse every packet into an
object, jitter-buffer it and decode it in a thread (DESIGN.md §3). Here
``RTCRtpReceiver.receive`` is replaced so no decoder thread ever starts, and the DTLS
transport's RTP/RTCP handlers are replaced so each decrypted packet goes to its
:class:`~streaming.source.Source`. The sender (a publisher, or the origin node) still gets what
a receiver owes it: receiver reports (RFC 3550 §6.4.2), generic NACKs (RFC 4585 §6.2.1), PLI
on request, and REMB when it sends abs-send-time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import pylibsrtp
from aiortc.rtcrtpparameters import RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpByePacket,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    pack_remb_fci,
)

from config import IceServer, MediaLimits
from streaming import aiortc_hooks, rtp_header
from streaming.audio_level import AUDIO_LEVEL_URI, LevelMeter, read_level
from streaming.negotiation import Codec
from streaming.peer import Peer
from streaming.source import Source

REMB_MIN = 300_000  # bit/s
REMB_START = 2_500_000  # trusted by Chromium in its first 2 s without loss: all layers start
REMB_MAX = 10_000_000
REMB_GROWTH = 1.08  # per report without loss, above 1.5x what arrives
logger = logging.getLogger(__name__)

# (leg, kind, codec, extension ids, simulcast rids) -> the Source this track feeds (new, or
# taken over)
TrackSink = Callable[["IntakeLeg", str, Codec, dict[str, int], tuple[str, ...]], Source]


class _Seen(NamedTuple):
    """What aiortc's StreamStatistics / NackGenerator read from a packet."""

    sequence_number: int
    timestamp: int


class Inbound:
    """One received RTP stream: its Source (and layer of it), its media SSRC and the
    receiver-side statistics.

    A simulcast track (issue 14 §1) is one Inbound for the track, whose ``rids`` map each RTP
    stream id (RFC 8852) to the Inbound of that encoding; its SSRC is learnt from the first
    packet that carries the id.
    """

    def __init__(
        self, source: Source, payload_type: int, clock_rate: int, video: bool, layer: int = 0
    ) -> None:
        self.source: Source | None = source
        self.layer = layer
        self.rids: dict[bytes, Inbound] | None = None
        self.rid_id = 0  # the rtp-stream-id header extension id
        self.payload_type = payload_type
        self.media_ssrc = 0
        self.stats = StreamStatistics(clock_rate)
        self.nacks = NackGenerator() if video else None
        self.lsr = 0
        self.lsr_time = 0.0
        self.octets = 0
        self.video = video
        self.level_id = 0  # RFC 6464 audio-level extension id, 0: not read (issue 14 §5)
        self.loss = 0  # fraction lost (/256) in its last receiver report

    def encodings(self) -> list[Inbound]:
        """The RTP streams of this track: its layers' Inbounds, or itself."""
        return list(self.rids.values()) if self.rids is not None else [self]


class IntakeLeg(Peer):
    """A connection that receives tracks; ``inbounds`` are its tracks once media is connected."""

    def __init__(
        self,
        peer_id: str,
        room: str,
        participant: str,
        limits: MediaLimits,
        ice_servers: Sequence[IceServer],
        on_track: TrackSink,
    ) -> None:
        super().__init__(peer_id, room, participant, limits, ice_servers)
        self.inbounds: list[Inbound] = []
        self.malformed = 0
        self._on_track = on_track
        self._by_ssrc: dict[int, Inbound] = {}
        self._by_pt: dict[int, Inbound] = {}
        self._rtcp_ssrc = random.getrandbits(32)
        self._rx_srtp: Any = None
        self.srtp_errors = 0
        self.nacks_upstream = 0  # sequence numbers asked upstream for local viewers
        self._report_task: asyncio.Task[None] | None = None
        self.remb_bps: float = REMB_START

    def _add_track(
        self, codec: Codec, extensions: dict[str, int], rids: tuple[str, ...] = ("",),
        rid_id: int = 0,
    ) -> Inbound:
        """The track's Source exists from the answer on, so viewers may join before media flows."""
        kind = codec.mime.split("/")[0]
        source = self._on_track(self, kind, codec, extensions, rids)
        inbound = Inbound(source, codec.payload_type, codec.clock_rate, kind == "video")
        if len(rids) > 1:
            inbound.rid_id = rid_id
            inbound.rids = {}
            for index, rid in enumerate(rids):
                layer = Inbound(source, codec.payload_type, codec.clock_rate, True, index)
                inbound.rids[rid.encode()] = layer
                source.layers[index].upstream = self._pli_sender(layer)
        level_id = extensions.get(AUDIO_LEVEL_URI, 0)
        if kind == "audio" and level_id and not source.relayed:  # an edge's origin measures
            inbound.level_id = level_id
            if source.levels is None:
                source.levels = LevelMeter(self.limits.speaker.threshold)
        if inbound.rids is None:
            source.upstream = self._pli_sender(inbound)
        self.inbounds.append(inbound)
        self._by_pt[codec.payload_type] = inbound
        return inbound

    def _pli_sender(self, inbound: Inbound) -> Callable[[], None]:
        return lambda: self._send_pli(inbound)

    def _receiver(self, inbound: Inbound) -> Callable[[RTCRtpReceiveParameters], Any]:
        async def receive(parameters: RTCRtpReceiveParameters) -> None:
            self._start_track(inbound, parameters)

        return receive

    def _start_track(self, inbound: Inbound, parameters: RTCRtpReceiveParameters) -> None:
        """Called by aiortc once DTLS is up (instead of starting a decoder thread)."""
        for encoding in parameters.encodings:
            if encoding.ssrc:
                self._by_ssrc[encoding.ssrc] = inbound
                inbound.media_ssrc = encoding.ssrc
        if self._report_task is None:
            self._rx_srtp = aiortc_hooks.rx_session(self.dtls)
            guard = self.guard_of(self.dtls)
            if guard is not None:  # SRTP straight from the socket, once the guard admitted it
                guard.fast = self._on_datagram
            self._report_task = asyncio.get_running_loop().create_task(self._report_loop())

    # -- intake -------------------------------------------------------------------------------

    def _on_datagram(self, data: bytes) -> bool:
        """Every datagram the transport guard admitted (from the peer's nominated or another
        valid ICE pair), where aioice receives it (DESIGN.md §3).

        SRTP and SRTCP are unprotected here and handled at once: aioice's STUN parse attempt,
        its queue and the DTLS task's wake-up are skipped. STUN and DTLS go on to aioice.
        """
        if len(data) < 12 or not 128 <= data[0] < 192 or self._rx_srtp is None:
            return False
        try:
            if 192 <= data[1] <= 208:  # RTCP packet types (RFC 5761 §4)
                self._handle_rtcp(self._rx_srtp.unprotect_rtcp(data))
            else:
                self._handle_rtp(self._rx_srtp.unprotect(data))
        except pylibsrtp.Error:
            self.srtp_errors += 1
        except Exception:  # a bug must not kill the publisher's socket; count and go on
            self.malformed += 1
            logger.exception("intake %s: packet handling failed", self.peer_id)
        return True

    async def _on_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        """The same, for packets aiortc's DTLS transport decrypted before interception began."""
        self._handle_rtp(data)

    def _handle_rtp(self, data: bytes) -> None:
        try:
            h = rtp_header.parse(data)
        except ValueError:
            self.malformed += 1
            return
        inbound = self._by_ssrc.get(h.ssrc)
        if inbound is None:
            inbound = self._learn(data, h)
            if inbound is None:
                return
        if h.payload_type != inbound.payload_type:
            return
        seen: Any = _Seen(h.sequence, h.timestamp)  # duck-types aiortc's RtpPacket
        inbound.stats.add(seen)
        inbound.octets += h.payload_end - h.payload_offset
        if inbound.nacks is not None and inbound.nacks.add(seen):
            self._send_nack(inbound)
        source = inbound.source
        if source is not None:
            if inbound.level_id and source.levels is not None:
                level = read_level(data, h.extension_offset, inbound.level_id)
                if level >= 0:
                    source.levels.add(level)
            source.on_rtp(data, h, inbound.layer)

    def _learn(self, data: bytes, h: rtp_header.RtpHeader) -> Inbound | None:
        """The stream of a packet from an SSRC not seen before: by payload type, and on a
        simulcast track by the RTP stream id it carries (RFC 8852 §3; the publisher repeats it
        until it heard a receiver report for the SSRC). None: nothing to place it in."""
        inbound = self._by_pt.get(h.payload_type)
        if inbound is not None and inbound.rids is not None:
            rid = rtp_header.find_extension(data, h.extension_offset, inbound.rid_id)
            inbound = inbound.rids.get(rid.rstrip(b"\0")) if rid else None
        if inbound is None:
            return None
        self._by_ssrc[h.ssrc] = inbound
        inbound.media_ssrc = h.ssrc
        return inbound

    async def _on_rtcp(self, data: bytes) -> None:
        self._handle_rtcp(data)

    def _handle_rtcp(self, data: bytes) -> None:
        try:
            packets = RtcpPacket.parse(data)
        except ValueError:
            self.malformed += 1
            return
        for packet in packets:
            if isinstance(packet, RtcpByePacket):
                self._on_bye([self._by_ssrc[s] for s in packet.sources if s in self._by_ssrc])
            elif isinstance(packet, RtcpSrPacket):
                inbound = self._by_ssrc.get(packet.ssrc)
                if inbound is None:
                    continue
                ntp = packet.sender_info.ntp_timestamp
                inbound.lsr = (ntp >> 16) & 0xFFFFFFFF
                inbound.lsr_time = time.time()
                if inbound.source is not None:
                    inbound.source.on_sender_report(
                        ntp, packet.sender_info.rtp_timestamp, inbound.layer
                    )

    def _on_bye(self, inbounds: list[Inbound]) -> None:
        """The sender ended these tracks (RTCP BYE). A publisher's leg ends with its peer."""

    # -- feedback to the publisher ------------------------------------------------------------

    def _send_nack(self, inbound: Inbound) -> None:
        assert inbound.nacks is not None
        packet = RtcpRtpfbPacket(
            fmt=RTCP_RTPFB_NACK, ssrc=self._rtcp_ssrc, media_ssrc=inbound.media_ssrc
        )
        packet.lost = sorted(inbound.nacks.missing)
        self.queue_rtcp(self.dtls, bytes(packet))

    def _send_lost(self, inbound: Inbound, seqs: list[int]) -> None:
        """One generic NACK (RFC 4585 §6.2.1) for ``seqs`` of ``inbound``'s stream: packets
        local viewers asked for that this node's cache lacks (an edge, streaming/upstream.py)."""
        packet = RtcpRtpfbPacket(
            fmt=RTCP_RTPFB_NACK, ssrc=self._rtcp_ssrc, media_ssrc=inbound.media_ssrc
        )
        packet.lost = sorted(seqs)
        self.nacks_upstream += len(seqs)
        self.queue_rtcp(self.dtls, bytes(packet))

    def _send_pli(self, inbound: Inbound) -> None:
        packet = RtcpPsfbPacket(
            fmt=RTCP_PSFB_PLI, ssrc=self._rtcp_ssrc, media_ssrc=inbound.media_ssrc
        )
        self.queue_rtcp(self.dtls, bytes(packet))

    async def _report_loop(self) -> None:
        """Receiver reports every 0.5-1.5 s (RFC 3550 §6.2's randomised interval), with REMB."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.5 + random.random())
            now = loop.time()
            try:
                reports = [r for r in map(self._report, self._streams()) if r is not None]
            except Exception:  # one odd track must not end RTCP (and REMB) for the whole leg
                logger.exception("peer %s: receiver report not built", self.peer_id)
                reports = []
            if reports:
                self.queue_rtcp(
                    self.dtls, bytes(RtcpRrPacket(ssrc=self._rtcp_ssrc, reports=reports))
                )
            self._send_remb(now - last)
            last = now

    def _send_remb(self, elapsed: float) -> None:
        """REMB (draft-alvestrand-rmcat-remb) from the receive rate and loss, once per report.

        A forwarding server has no decoder to protect: it lets the publisher's own loss-based
        control find the path's rate. The first REMB is generous (Chromium trusts a REMB in its
        first 2 s without loss, so a simulcast publisher turns every layer on at once, issue
        14 §1); then it grows by ``REMB_GROWTH`` a report while nothing is lost, never below
        half again what arrives, and falls with loss as GCC's loss rule does (over 10 %:
        ``rate × (1 − loss/2)``). O(1) per packet, unlike a delay-based estimator.
        """
        video = [i for i in self._streams() if i.video and i.media_ssrc]
        if not video or elapsed <= 0:
            return
        rate = sum(i.octets for i in video) * 8 / elapsed
        loss = max(i.loss for i in video) / 256
        for inbound in video:
            inbound.octets = 0
        if loss > 0.10:
            self.remb_bps = rate * (1 - loss / 2)
        elif loss < 0.02:
            self.remb_bps = max(self.remb_bps * REMB_GROWTH, rate * 1.5)
        bitrate = int(min(REMB_MAX, max(REMB_MIN, self.remb_bps)))
        self.remb_bps = bitrate
        fci = pack_remb_fci(bitrate, [i.media_ssrc for i in video])
        packet = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=self._rtcp_ssrc, media_ssrc=0, fci=fci)
        self.queue_rtcp(self.dtls, bytes(packet))

    def _streams(self) -> list[Inbound]:
        return [stream for track in self.inbounds for stream in track.encodings()]

    @staticmethod
    def _report(inbound: Inbound) -> RtcpReceiverInfo | None:
        """The report block of one track; None before its first packet (an SSRC known from the
        SDP alone: aiortc's statistics cannot compute a loss fraction yet and raise)."""
        stats = inbound.stats
        if not inbound.media_ssrc or stats.max_seq is None:
            return None
        dlsr = 0
        if inbound.lsr_time:
            delay = time.time() - inbound.lsr_time
            dlsr = int(delay * 65536) if 0 < delay < 65536 else 0
        inbound.loss = stats.fraction_lost
        return RtcpReceiverInfo(
            ssrc=inbound.media_ssrc,
            fraction_lost=inbound.loss,
            packets_lost=stats.packets_lost,
            highest_sequence=stats.cycles + (stats.max_seq or 0),
            jitter=stats.jitter,
            lsr=inbound.lsr,
            dlsr=dlsr,
        )

    def release(self) -> list[Source]:
        """Detach this leg from its Sources (they end or move to a new leg); returns them."""
        sources = [i.source for i in self.inbounds if i.source is not None]
        for inbound in self.inbounds:
            inbound.source = None
            for stream in inbound.encodings():
                stream.source = None
        return sources

    async def close(self) -> None:
        if self._report_task is not None:  # a close must not fail on how its task ended
            self._report_task.cancel()
            await asyncio.gather(self._report_task, return_exceptions=True)
            self._report_task = None
        await super().close()
