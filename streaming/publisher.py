"""Publisher leg: a publisher's peer whose packets are taken right after SRTP unprotect.

aiortc's receiver would parse every packet into an object, jitter-buffer it and decode it in a
thread (DESIGN.md §3). Here ``RTCRtpReceiver.receive`` is replaced so no decoder thread ever
starts, and the DTLS transport's RTP/RTCP handlers are replaced so each decrypted packet goes
to its :class:`~streaming.source.Source`. The publisher still gets what a receiver owes it:
receiver reports (RFC 3550 §6.4.2), generic NACKs (RFC 4585 §6.2.1), PLI on request, and REMB
when it sends abs-send-time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
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
from streaming.negotiation import Codec, Description, narrow, plan_publish, restore
from streaming.peer import Peer
from streaming.source import Source

ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

# (leg, kind, codec, extension ids) -> the Source this track feeds (new, or taken over)
TrackSink = Callable[["PublisherLeg", str, Codec, dict[str, int]], Source]


class _Seen(NamedTuple):
    """What aiortc's StreamStatistics / NackGenerator read from a packet."""

    sequence_number: int
    timestamp: int


class Inbound:
    """One received track: its Source, its media SSRC and the receiver-side statistics."""

    def __init__(self, source: Source, payload_type: int, clock_rate: int, video: bool) -> None:
        self.source: Source | None = source
        self.payload_type = payload_type
        self.media_ssrc = 0
        self.stats = StreamStatistics(clock_rate)
        self.nacks = NackGenerator() if video else None
        self.lsr = 0
        self.lsr_time = 0.0


class PublisherLeg(Peer):
    """A publisher's connection; ``inbounds`` are its tracks once media is connected."""

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
        self._abs_send_time_id = 0
        self._remb = RemoteBitrateEstimator()
        self._report_task: asyncio.Task[None] | None = None

    async def answer(self, offer_sdp: str) -> str:
        """Negotiate the publisher's offer: one forwardable codec per m-line."""
        offer = Description.parse(offer_sdp)
        plan = plan_publish(offer)
        mids = [section.mid for section in offer.media]
        await self.set_offer(narrow(offer, plan))
        accepted: list[tuple[int, Codec]] = []
        for transceiver in self.pc.getTransceivers():
            index = mids.index(transceiver.mid) if transceiver.mid in mids else -1
            codec = plan.codecs.get(index)
            if codec is None:
                transceiver.direction = "inactive"
                continue
            transceiver.direction = "recvonly"
            self._rtcp_ssrc = aiortc_hooks.sender_ssrc(transceiver.sender)
            accepted.append((index, codec))
        dtls = self.dtls
        aiortc_hooks.intercept_rtp(dtls, self._on_rtp)
        aiortc_hooks.intercept_rtcp(dtls, self._on_rtcp)
        answer = Description.parse(await self.make_answer())
        for transceiver in self.pc.getTransceivers():
            for index, codec in accepted:
                if transceiver.mid == mids[index]:
                    inbound = self._add_track(codec, answer.media[index].extensions())
                    aiortc_hooks.replace_receive(transceiver.receiver, self._receiver(inbound))
        return restore(str(answer), plan)

    def _add_track(self, codec: Codec, extensions: dict[str, int]) -> Inbound:
        """The track's Source exists from the answer on, so viewers may join before media flows."""
        kind = codec.mime.split("/")[0]
        self._abs_send_time_id = self._abs_send_time_id or extensions.get(ABS_SEND_TIME, 0)
        source = self._on_track(self, kind, codec, extensions)
        inbound = Inbound(source, codec.payload_type, codec.clock_rate, kind == "video")
        source.upstream = lambda: self._send_pli(inbound)
        self.inbounds.append(inbound)
        self._by_pt[codec.payload_type] = inbound
        return inbound

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
            self._report_task = asyncio.get_running_loop().create_task(self._report_loop())

    # -- intake (called by aiortc's DTLS transport for every decrypted packet) ----------------

    async def _on_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        try:
            h = rtp_header.parse(data)
        except ValueError:
            self.malformed += 1
            return
        inbound = self._by_ssrc.get(h.ssrc)
        if inbound is None:
            inbound = self._by_pt.get(h.payload_type)
            if inbound is None:
                return
            self._by_ssrc[h.ssrc] = inbound
            inbound.media_ssrc = h.ssrc
        if h.payload_type != inbound.payload_type:
            return
        seen: Any = _Seen(h.sequence, h.timestamp)  # duck-types aiortc's RtpPacket
        inbound.stats.add(seen)
        if inbound.nacks is not None:
            if inbound.nacks.add(seen):
                self._send_nack(inbound)
            if self._abs_send_time_id:
                self._estimate(data, h, arrival_time_ms)
        if inbound.source is not None:
            inbound.source.on_rtp(data, h)

    def _estimate(self, data: bytes, h: rtp_header.RtpHeader, arrival_time_ms: int) -> None:
        value = rtp_header.find_extension(data, h.extension_offset, self._abs_send_time_id)
        if value is None or len(value) != 3:
            return
        remb = self._remb.add(
            abs_send_time=int.from_bytes(value, "big"),
            arrival_time_ms=arrival_time_ms,
            payload_size=h.payload_end - h.payload_offset,
            ssrc=h.ssrc,
        )
        if remb is not None:
            packet = RtcpPsfbPacket(
                fmt=RTCP_PSFB_APP, ssrc=self._rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb)
            )
            self.queue_rtcp(self.dtls, bytes(packet))

    async def _on_rtcp(self, data: bytes) -> None:
        try:
            packets = RtcpPacket.parse(data)
        except ValueError:
            self.malformed += 1
            return
        for packet in packets:
            if isinstance(packet, RtcpSrPacket):
                inbound = self._by_ssrc.get(packet.ssrc)
                if inbound is None:
                    continue
                ntp = packet.sender_info.ntp_timestamp
                inbound.lsr = (ntp >> 16) & 0xFFFFFFFF
                inbound.lsr_time = time.time()
                if inbound.source is not None:
                    inbound.source.on_sender_report(ntp, packet.sender_info.rtp_timestamp)

    # -- feedback to the publisher ------------------------------------------------------------

    def _send_nack(self, inbound: Inbound) -> None:
        assert inbound.nacks is not None
        packet = RtcpRtpfbPacket(
            fmt=RTCP_RTPFB_NACK, ssrc=self._rtcp_ssrc, media_ssrc=inbound.media_ssrc
        )
        packet.lost = sorted(inbound.nacks.missing)
        self.queue_rtcp(self.dtls, bytes(packet))

    def _send_pli(self, inbound: Inbound) -> None:
        packet = RtcpPsfbPacket(
            fmt=RTCP_PSFB_PLI, ssrc=self._rtcp_ssrc, media_ssrc=inbound.media_ssrc
        )
        self.queue_rtcp(self.dtls, bytes(packet))

    async def _report_loop(self) -> None:
        """Receiver reports every 0.5-1.5 s (RFC 3550 §6.2's randomised interval)."""
        while True:
            await asyncio.sleep(0.5 + random.random())
            reports = [self._report(inbound) for inbound in self.inbounds if inbound.media_ssrc]
            if reports:
                self.queue_rtcp(
                    self.dtls, bytes(RtcpRrPacket(ssrc=self._rtcp_ssrc, reports=reports))
                )

    @staticmethod
    def _report(inbound: Inbound) -> RtcpReceiverInfo:
        stats = inbound.stats
        dlsr = 0
        if inbound.lsr_time:
            delay = time.time() - inbound.lsr_time
            dlsr = int(delay * 65536) if 0 < delay < 65536 else 0
        return RtcpReceiverInfo(
            ssrc=inbound.media_ssrc,
            fraction_lost=stats.fraction_lost,
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
        return sources

    async def close(self) -> None:
        if self._report_task is not None:
            self._report_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._report_task
            self._report_task = None
        await super().close()
