"""Viewer leg: a viewer's peer, fed by Subscriptions instead of aiortc's encoder.

``RTCRtpSender.send`` is replaced (streaming/aiortc_hooks.py), so aiortc starts no encoder and no
RTCP loop; when aiortc calls it (DTLS is up, the nominated pair exists, DESIGN.md §3's pitfall),
the leg builds its :class:`~streaming.egress.Egress` and attaches one Subscription per track.
The viewer's RTCP comes back here: PLI/FIR become throttled keyframe requests to the Source,
NACKs are answered from the Source's packet cache.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from typing import Any

import pylibsrtp
from aiortc import RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpSendParameters
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from config import IceServer, MediaLimits
from streaming import aiortc_hooks, send_backend, srtp_protection
from streaming.adaptation import TileView
from streaming.egress import MAX_PADDING, Egress
from streaming.errors import BadOffer
from streaming.feedback import NackWindow
from streaming.loss_window import LossWindow
from streaming.negotiation import (
    H264_ALIAS,
    Codec,
    CodecMismatch,
    Description,
    Plan,
    narrow,
    plan_view,
    restore,
)
from streaming.peer import Peer
from streaming.source import Source
from streaming.stats import Tally
from streaming.subscription import Route, Subscription, extension_table
from streaming.viewer_adapt import SETTLED_SAMPLE_S, Quality, Ranked, Sent, ViewerAdaptation

ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
PADDING_OVERHEAD = 12 + 8 + 10  # RTP header, abs-send-time element, SRTP tag
RESEND_WINDOW_S = 0.1  # a packet resent is not resent again within this (about an RTT)
RESEND_MIN_PPS = 50  # packets a second any viewer may have resent
LOST_MEMORY_S = 3.0  # a NACKed packet counts as lost once within this
FEEDBACK_SAMPLE_S = 0.1  # feedback takes the counters first unless a sample is this fresh
RECENT_SEQS = 128  # NACKs for packets further behind the newest sent are not counted as loss

RTCP_PSFB_FIR = 4  # RFC 5104 §4.3.1

log = logging.getLogger(__name__)


def offerable(codec: Codec) -> list[RTCRtpCodecCapability]:
    """aiortc's capability for a Source codec (any H264 profile is offered under 42e01f)."""
    kind = codec.mime.split("/")[0]
    found = [
        c
        for c in RTCRtpSender.getCapabilities(kind).codecs
        if c.name.lower() == codec.name
        and (codec.name != "h264" or c.parameters.get("profile-level-id") == H264_ALIAS)
        and (codec.name != "h264" or c.parameters.get("packetization-mode") == "1")
    ]
    return found[:1]


def offer_plan(offer_sdp: str, sources: list[Source]) -> Plan:
    """Which payload type each offered m-line uses, and the H264 labels to show the viewer."""
    offer = Description.parse(offer_sdp)
    codecs: dict[int, Codec] = {}
    relabelled: dict[int, str] = {}
    for index, (section, source) in enumerate(zip(offer.media, sources, strict=False)):
        mine = section.codecs()
        if not mine:
            continue
        codecs[index] = mine[0]
        if source.codec.name == "h264" and source.codec.h264_profile != H264_ALIAS:
            relabelled[index] = source.codec.h264_profile
    return Plan(codecs, relabelled)


def route_for(source: Source, parameters: RTCRtpSendParameters, ssrc: int) -> Route:
    """The viewer's payload type, SSRC and extension id table for ``source``."""
    codec = parameters.codecs[0]
    viewer_ids = {ext.uri: ext.id for ext in parameters.headerExtensions}
    table = extension_table(source.extension_ids, viewer_ids)
    return Route(
        codec.payloadType or 0, ssrc, table, codec.clockRate, tuple(sorted(viewer_ids.items())),
        parameters.rtcp.cname or "",
    )


class ViewerLeg(Peer):
    """A viewer's connection; ``subscriptions`` fill in once media is connected."""

    def __init__(
        self,
        peer_id: str,
        room: str,
        participant: str,
        limits: MediaLimits,
        ice_servers: Sequence[IceServer],
    ) -> None:
        super().__init__(peer_id, room, participant, limits, ice_servers)
        self.subscriptions: list[tuple[Source, Subscription]] = []
        self.connected = asyncio.Event()
        self.nacks_answered = 0
        self.keyframe_requests = 0
        self._egress: Egress | None = None
        self._pair: Any = None  # the ICE pair the egress sends on
        self.path_changes = 0
        self.retired = False  # set by the plane once its counters joined the plane's totals
        self._by_ssrc: dict[int, tuple[Source, Subscription]] = {}
        self._offered: list[Source] = []
        self._plan = Plan({}, {})
        self.view = TileView()  # what the page shows of this peer's video (issue 14 §2b)
        self.adaptation = ViewerAdaptation(limits.adapt)
        self._loss_windows: dict[int, LossWindow] = {}  # video SSRC -> its reports' loss
        self._resent = NackWindow(RESEND_WINDOW_S, 2048)
        self._resend_tokens = 0.0
        self._lost = NackWindow(LOST_MEMORY_S, 4096)
        self.nacked = 0  # distinct packets the viewer NACKed (once per RESEND_WINDOW_S)
        self._resend_at = 0.0
        self.padding_sent = 0  # probe octets sent (issue 14 §3)
        self.padding_wire = 0  # the same as the egress counts them (headers, SRTP tag)
        self._rx_srtp: Any = None  # the inbound SRTP session, for RTCP from the socket
        self.srtcp_errors = 0  # RTCP from the viewer that failed SRTCP's authentication

    def set_view(self, view: TileView) -> None:
        self.view = view
        self.adaptation.touch()

    async def answer(self, offer_sdp: str, sources: dict[str, list[Source]]) -> str:
        """Negotiate a viewer's offer (WHEP): the m-lines of each kind get that kind's Sources
        in order (issue 17: a second audio m-line gets the floor beside a channel); one
        left over is answered ``inactive``. A kind's Sources share one codec."""
        offer = Description.parse(offer_sdp)
        plan = plan_view(offer, {kind: picked[0].codec for kind, picked in sources.items()})
        mids = [section.mid for section in offer.media]
        await self.set_offer(narrow(offer, plan))
        aiortc_hooks.rebundle(self.pc, _bundle(offer_sdp))
        left = {kind: list(picked) for kind, picked in sources.items()}
        for transceiver in self.pc.getTransceivers():
            index = mids.index(transceiver.mid) if transceiver.mid in mids else -1
            codec = plan.codecs.get(index)
            queue = left.get(transceiver.kind) or []
            source = queue.pop(0) if codec is not None and queue else None
            if codec is None or source is None:
                transceiver.direction = "inactive"
                continue
            transceiver.direction = "sendonly"
            ssrc = aiortc_hooks.sender_ssrc(transceiver.sender)
            aiortc_hooks.replace_send(transceiver.sender, self._sender(source, ssrc))
        aiortc_hooks.intercept_rtcp(self.dtls, self._on_rtcp)
        return restore(await self.make_answer(), plan)

    async def offer(self, sources: list[Source]) -> str:
        """Offer ``sources`` to a viewer (the server offers, for the browser protocol)."""
        for source in sources:
            transceiver = self.pc.addTransceiver(source.kind, direction="sendonly")
            transceiver.setCodecPreferences(offerable(source.codec))
            ssrc = aiortc_hooks.sender_ssrc(transceiver.sender)
            aiortc_hooks.replace_send(transceiver.sender, self._sender(source, ssrc))
            self._offered.append(source)
        aiortc_hooks.drop_estimators(self.pc)
        aiortc_hooks.intercept_rtcp(self.dtls, self._on_rtcp)
        await self.set_local(await self.pc.createOffer())
        self._plan = offer_plan(str(self.pc.localDescription.sdp), self._offered)
        return restore(str(self.pc.localDescription.sdp), self._plan)

    async def accept(self, answer_sdp: str) -> None:
        """The viewer's answer to :meth:`offer`; a codec it refused is a clear error."""
        answer = Description.parse(answer_sdp)
        for index, section in enumerate(answer.media):
            codec = self._plan.codecs.get(index)
            refused = section.lines[0].split()[1] == "0"
            if codec is not None and (refused or codec.payload_type not in section.payload_types()):
                raise CodecMismatch(
                    f"this player cannot receive {codec.mime.split('/')[1]} {section.kind}"
                )
            if index in self._plan.relabelled:
                section.set_h264_profile(codec.payload_type, H264_ALIAS)  # type: ignore[union-attr]
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(str(answer), "answer"))
        except Exception as exc:  # aiortc: OperationError / ValueError on a bad answer
            raise BadOffer(f"the SDP answer cannot be used: {exc}") from None

    def _sender(self, source: Source, ssrc: int) -> Callable[[RTCRtpSendParameters], Any]:
        async def send(parameters: RTCRtpSendParameters) -> None:
            self._start_track(source, parameters, ssrc)

        return send

    def _start_track(self, source: Source, parameters: RTCRtpSendParameters, ssrc: int) -> None:
        """Called by aiortc once DTLS is up (instead of starting an encoder)."""
        if ssrc in self._by_ssrc:
            return  # aiortc may call send() again (a second __connect): one Subscription per track
        if self.closed.is_set() or source.ended.is_set() or source.full:
            return  # the publisher left (or the track filled up) while this viewer connected
        egress = self._egress or self._make_egress()
        self._take_rtcp()
        sub = Subscription(self.peer_id, source.kind, route_for(source, parameters, ssrc), egress)
        source.attach(sub)
        self.subscriptions.append((source, sub))
        self._by_ssrc[ssrc] = (source, sub)
        self.adaptation.touch()
        self.connected.set()

    def _make_egress(self) -> Egress:
        dtls = self.dtls
        self._pair = aiortc_hooks.nominated_pair(dtls)
        sock, addr = aiortc_hooks.nominated_socket(dtls)
        self._egress = Egress(
            aiortc_hooks.srtp_pointer(dtls),
            sock,
            addr,
            self.limits.viewer_queue_packets,
            asyncio.get_running_loop(),
            send_backend.choose(self.limits.send_backend),
            owner=aiortc_hooks.srtp_owner(dtls),
            rtp=srtp_protection.for_viewer(dtls, self.limits.srtp_backend),
        )
        return self._egress

    def _take_rtcp(self) -> None:
        """From now on the viewer's RTCP is unprotected where the socket reads it (issue 19).

        aiortc's way (aioice's queue, the DTLS transport's task waking for each packet) cost a
        node more per viewer than its own SRTCP and parsing: receiver reports and REMB come
        one to four times a second from every viewer."""
        if self._rx_srtp is not None:
            return
        self._rx_srtp = aiortc_hooks.rx_session(self.dtls)
        guard = self.guard_of(self.dtls)
        if guard is not None:  # only what the guard admitted: the viewer's proven ICE pairs
            guard.fast = self._on_datagram

    def _on_datagram(self, data: bytes) -> bool:
        """A datagram from the viewer's nominated (or another valid) pair: SRTCP is handled
        here; anything else (STUN, DTLS, RTP a viewer has no reason to send) goes on to aioice
        and aiortc as before."""
        if len(data) < 8 or not 128 <= data[0] < 192 or not 192 <= data[1] <= 223:
            return False  # RTCP packet types, RFC 5761 §4
        try:
            clear = self._rx_srtp.unprotect_rtcp(data)
        except pylibsrtp.Error:
            self.srtcp_errors += 1
            return True
        try:
            self._handle_rtcp(clear)
        except Exception:  # a bug must not kill the viewer's socket; log and go on
            log.exception("viewer %s: RTCP handling failed", self.peer_id)
        return True

    async def _on_rtcp(self, data: bytes) -> None:
        """RTCP aiortc decrypted (before :meth:`_take_rtcp`, or a path the guard passes on)."""
        self._handle_rtcp(data)

    def _handle_rtcp(self, data: bytes) -> None:
        self._follow_nomination()
        try:
            packets = RtcpPacket.parse(data)
        except ValueError:
            return
        now = asyncio.get_running_loop().time()
        for packet in packets:
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
                self._keyframe(packet)
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                self._remb(packet.fci, now)
            elif isinstance(packet, RtcpRrPacket | RtcpSrPacket):
                for report in packet.reports:  # the loss of the video we send (RFC 3550 §6.4.1)
                    entry = self._by_ssrc.get(report.ssrc)
                    if entry is not None and entry[0].kind == "video":
                        self._report_loss(report.ssrc, report.highest_sequence,
                                          report.packets_lost, now)
            elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                entry = self._by_ssrc.get(packet.media_ssrc)
                if entry is not None:
                    self._count_lost(packet.media_ssrc, entry[1], packet.lost, now)
                    seqs = self._resendable(packet.media_ssrc, packet.lost, now)
                    sent = entry[0].retransmit(entry[1], seqs) if seqs else 0
                    self.nacks_answered += sent
                    self._resend_tokens -= sent

    def _report_loss(self, ssrc: int, highest: int, lost: int, now: float) -> None:
        """A report block's counters, as loss over the last half second (not the block's own
        fraction lost, which covers one to five packets when reports come every 15-30 ms:
        streaming/loss_window.py)."""
        window = self._loss_windows.get(ssrc)
        if window is None:
            window = self._loss_windows[ssrc] = LossWindow()
        fraction = window.add(highest, lost, now)
        if fraction is not None:
            self._sample(now)
            self.adaptation.on_loss(fraction, now)

    def _follow_nomination(self) -> None:
        """Move the egress to the pair ICE nominated last (a viewer that changed network).

        Checked on each RTCP packet from the viewer (receiver reports come every 0.5–1.5 s),
        which costs a dict lookup; media then follows within about a second.
        """
        egress = self._egress
        if egress is None or egress.closed:
            return
        pair = aiortc_hooks.nominated_pair(self.dtls)
        if pair is None or pair is self._pair:
            return
        self._pair = pair
        sock, addr = aiortc_hooks.pair_socket(pair)
        egress.retarget(sock, addr)
        self.path_changes += 1
        log.info("viewer %s: media follows the newly nominated ICE pair to %s", self.peer_id, addr)

    def _count_lost(self, ssrc: int, sub: Subscription, seqs: list[int], now: float) -> None:
        """Count each recently sent packet the viewer NACKs, once: the quickest sign of a
        congested link (streaming/viewer_adapt.py). Probe padding and the previous layer's
        packets count too (the link lost them all the same; only resending them would be
        wrong), but not numbers over ``RECENT_SEQS`` behind the newest: a NACK list after a
        keyframe's loss named 233 old packets at once, read as 666 % loss in 0.5 s."""
        newest = sub.forwarder.last_seq
        recent = [seq for seq in seqs if (newest - seq) & 0xFFFF < RECENT_SEQS]
        fresh = len(self._lost.fresh([(ssrc << 16) | seq for seq in recent], now))
        if fresh:
            self.nacked += fresh
            self.adaptation.on_nack()

    def _resendable(self, ssrc: int, seqs: list[int], now: float) -> list[int]:
        """The NACKed numbers to resend now (RFC 4585 §6.2.1): each at most once per
        ``RESEND_WINDOW_S``, and no more than a quarter of the viewer's estimated downlink.
        A congested viewer NACKs what the link dropped; resending all of it into the same link
        (a NACK storm) would only deepen the loss; the newest packets go first."""
        elapsed = now - self._resend_at
        self._resend_at = now
        rate = max(RESEND_MIN_PPS, self.adaptation.estimator.estimate(now) / 4 / (8 * 1200))
        self._resend_tokens = min(rate * 0.25, self._resend_tokens + elapsed * rate)
        fresh = self._resent.fresh([(ssrc << 16) | seq for seq in seqs], now)
        allowed = int(self._resend_tokens)
        return [key & 0xFFFF for key in fresh[-allowed:]] if allowed > 0 else []

    def _remb(self, fci: bytes, now: float) -> None:
        """The viewer's REMB (draft-alvestrand-rmcat-remb): Chromium's delay-based estimate of
        its downlink, from the abs-send-time we write into each packet."""
        try:
            bitrate, _ = unpack_remb_fci(fci)
        except (ValueError, IndexError):
            return  # another application-layer feedback, or a malformed one
        self._sample(now)
        self.adaptation.on_remb(bitrate, now)

    def adapt(self, ranked: Callable[[Source], Ranked], now: float,
              changed: Collection[int] = ()) -> list[Quality]:
        """One adaptation tick (streaming/allocator.py): choose this viewer's layers, if it is
        due (``changed``: ids of the Sources whose layers offered changed this tick)."""
        egress = self._egress
        if egress is None or self.closed.is_set():
            return []
        adaptation = self.adaptation
        if adaptation.due(now, self.nacked, changed, self.subscriptions):
            return adaptation.tick(self.subscriptions, self.view, ranked, self._counters(), now)
        adaptation.refresh(self._counters, now, SETTLED_SAMPLE_S)
        return []

    def _counters(self) -> Sent:
        """What was sent to this viewer and what it NACKed, so far (only with an egress)."""
        egress = self._egress
        assert egress is not None
        return Sent(egress.sent_bytes, egress.sent_packets, self.nacked, self.padding_wire)

    def _sample(self, now: float) -> None:
        """Feedback is about to be judged against the send rates: take the counters first,
        unless a sample is fresher than ``FEEDBACK_SAMPLE_S`` (a tick's age, as before)."""
        if self._egress is not None:
            self.adaptation.refresh(self._counters, now, FEEDBACK_SAMPLE_S)

    def pad(self, octets: int, now: float) -> None:
        """Send ``octets`` of RTP padding on a video track, between frames (issue 14 §3): the
        sequence numbers it takes move the track's offset, so media continues after them."""
        egress = self._egress
        if egress is None or egress.closed:
            return
        for source, sub in self.subscriptions:
            if source.kind != "video" or not sub.forwarder.started:
                continue
            if sub.layer >= 0 and not (source.layers[sub.layer].frame_end
                                       and not sub.waiting_keyframe):
                continue
            self._pad_track(sub, octets)
            return

    def _pad_track(self, sub: Subscription, octets: int) -> None:
        fwd = sub.forwarder
        clock = asyncio.get_running_loop().time
        ext = dict(sub.route.viewer_extensions).get(ABS_SEND_TIME, 0)
        while octets > 0:
            size = min(MAX_PADDING, octets)
            seq = (fwd.last_seq + 1) & 0xFFFF
            # each stamped when it leaves: a burst under one stamp would look like queueing
            # delay to the viewer's delay-based estimator
            if not sub.egress.send_padding(
                seq, fwd.last_ts, sub.ssrc, sub.payload_type, size, ext, clock()
            ):
                return
            fwd.last_seq = seq
            fwd.seq_offset = (fwd.seq_offset + 1) & 0xFFFF
            sub.switch_seq = (seq + 1) & 0xFFFF  # a NACK from before maps by the old offset
            self.padding_sent += size
            self.padding_wire += size + PADDING_OVERHEAD
            octets -= size

    def _keyframe(self, packet: RtcpPsfbPacket) -> None:
        # FIR names its SSRC in the FCI (RFC 5104 §4.3.1.1); PLI in media_ssrc
        ssrc = packet.media_ssrc
        if packet.fmt == RTCP_PSFB_FIR and len(packet.fci) >= 4:
            ssrc = int.from_bytes(packet.fci[:4], "big")
        entry = self._by_ssrc.get(ssrc)
        if entry is not None and entry[1].layer >= 0:  # -1: no video sent now (issue 14 §3)
            self.keyframe_requests += 1
            entry[0].request_keyframe(entry[1].layer)

    def tally(self) -> Tally:
        """This viewer's counters (its egress's and its feedback's), for the plane's totals."""
        egress = self._egress
        return Tally(
            sent_packets=egress.sent_packets if egress else 0,
            sent_bytes=egress.sent_bytes if egress else 0,
            dropped_packets=egress.dropped_packets if egress else 0,
            send_errors=egress.errors if egress else 0,
            nacks_answered=self.nacks_answered,
            keyframe_requests=self.keyframe_requests,
            path_changes=self.path_changes,
            layer_switches=sum(sub.switches for _, sub in self.subscriptions),
            probe_bytes=self.padding_sent,
        )

    def detach(self) -> None:
        """Leave every Source this viewer watches (its egress stops too)."""
        for source, sub in self.subscriptions:
            source.detach(sub)
            self.adaptation.forget(sub)
        if self._egress is not None:
            self._egress.close()

    async def close(self) -> None:
        self.detach()
        await super().close()


def _bundle(sdp: str) -> list[str]:
    """The mids of the offer's BUNDLE group (RFC 9143 §7.1), first the one whose transport
    the others share; none when the offer bundles nothing."""
    for line in sdp.splitlines():
        if line.startswith("a=group:BUNDLE"):
            return line.split()[1:]
    return []
