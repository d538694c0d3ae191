"""What a publisher leg and a viewer leg share: an aiortc peer used for SDP, ICE, DTLS and keys.

The peer never decodes or encodes: the legs replace aiortc's receive and send entry points
(streaming/aiortc_hooks.py) before aiortc can start its decoder threads and encoder loops.
Outgoing RTCP at feedback rate goes through one bounded queue and one owned task per peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.sdp import candidate_from_sdp

from config import IceServer, MediaLimits
from streaming import aiortc_hooks
from streaming.candidate_filter import CandidatePolicy, parse, verdict
from streaming.consent import ConsentWatch
from streaming.errors import BadOffer, Capacity
from streaming.transport_guard import ForeignCounts, TransportGuard
from streaming.udp_mux import UdpMux

logger = logging.getLogger(__name__)


def _ended_already() -> None:
    """A closed peer's consent watch calls nothing back (its callback held the leg)."""

RTCP_QUEUE = 64
CLOSE_TIMEOUT_S = 5.0


def configuration(ice_servers: Sequence[IceServer]) -> RTCConfiguration:
    """aiortc configuration; an empty list, never aiortc's default public STUN server."""
    servers = [
        RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
        for s in ice_servers
    ]
    return RTCConfiguration(iceServers=servers)


class Peer:
    """One RTCPeerConnection owned by the plane, identified by ``peer_id``."""

    def __init__(
        self,
        peer_id: str,
        room: str,
        participant: str,
        limits: MediaLimits,
        ice_servers: Sequence[IceServer],
    ) -> None:
        self.peer_id = peer_id
        self.room = room
        self.participant = participant
        self.limits = limits
        self.pc = RTCPeerConnection(configuration(ice_servers))
        # RSA and ECDSA peers alike (issue 14 §6)
        aiortc_hooks.use_certificate(self.pc, aiortc_hooks.PeerCertificate.generateCertificate())
        self.states: list[str] = []
        self.closed = asyncio.Event()
        self.on_failed: Callable[[Peer], None] | None = None
        self._candidates = 0
        self._policy = CandidatePolicy(
            limits.allow_loopback_candidates, limits.allow_private_candidates
        )
        self._rtcp_queue: asyncio.Queue[tuple[RTCDtlsTransport, bytes]] = asyncio.Queue(RTCP_QUEUE)
        self._rtcp_task: asyncio.Task[None] | None = None
        self.mux: UdpMux | None = None  # the node's one UDP port; None: a socket per peer
        # transport hygiene (docs/media.md): the plane shares one counter among its peers
        self.foreign = ForeignCounts()
        self.guards: list[TransportGuard] = []
        self.consent: ConsentWatch | None = None
        self.pc.on("connectionstatechange", self._state_changed)
        self.pc.on("icegatheringstatechange", self._gathered)

    def _state_changed(self) -> None:
        state = self.pc.connectionState
        self.states.append(state)
        if state in ("failed", "closed") and self.on_failed is not None:
            self.on_failed(self)

    @property
    def rtt_ms(self) -> float | None:
        """The smoothed round-trip time of the consent checks (streaming/consent.py), in ms;
        None before the first answered check."""
        rtt = None if self.consent is None else self.consent.rtt_s
        return None if rtt is None else round(rtt * 1000, 1)

    def _watch_consent(self) -> None:
        transceivers = self.pc.getTransceivers()
        transport = transceivers[0].receiver.transport if transceivers else None
        if transport is None:  # no media section (never answered so): nothing to watch
            return
        # from the answer on: a peer that never gets a consent check through (its client gone
        # before ICE or DTLS completed) is ended as surely as one that stopped answering
        self.consent = ConsentWatch(transport, self.limits.consent_interval_s,
                                    self.limits.consent_timeout_s, self._consent_expired)
        self.consent.start()
        if self.mux is not None:  # an ICE-TCP connection that closes ends consent at once
            self.mux.watch_paths(aiortc_hooks.ice_agent(transport), self.consent.transport_lost)

    def _consent_expired(self) -> None:
        """The remote end stopped answering consent checks (RFC 7675): the peer has failed."""
        self.states.append("consent_expired")
        if self.on_failed is not None:
            self.on_failed(self)

    def _gathered(self) -> None:
        """Once the local sockets exist, only the peer's proven ICE addresses may feed DTLS and
        SRTP (streaming/transport_guard.py; one guard per ICE transport, one with BUNDLE), and
        the consent window (streaming/consent.py) starts."""
        if self.pc.iceGatheringState != "complete":
            return
        for transceiver in self.pc.getTransceivers():
            dtls = transceiver.receiver.transport
            if dtls is None or any(g.dtls is dtls for g in self.guards):
                continue
            guard = TransportGuard(dtls, self.foreign, self.peer_id)
            guard.install()
            self.guards.append(guard)
        if self.consent is None:
            self._watch_consent()

    def guard_of(self, dtls: RTCDtlsTransport) -> TransportGuard | None:
        return next((g for g in self.guards if g.dtls is dtls), None)

    @property
    def dtls(self) -> RTCDtlsTransport:
        """The (bundled) DTLS transport: Pavilion answers with BUNDLE, so there is one."""
        transceivers = self.pc.getTransceivers()
        if not transceivers:
            raise BadOffer("the offer has no media")
        transport = transceivers[0].receiver.transport
        if transport is None:  # aiortc rejected the section (direction or mid it cannot use)
            raise BadOffer("the offer's first media section cannot carry media here")
        return transport

    async def set_offer(self, sdp: str) -> None:
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BadOffer(f"the SDP offer cannot be used: {exc}") from None
        except Exception as exc:  # aiortc raises OperationError / InvalidAccessError
            raise BadOffer(f"the SDP offer cannot be negotiated: {exc}") from None
        aiortc_hooks.drop_estimators(self.pc)

    async def make_answer(self) -> str:
        try:
            answer = await self.pc.createAnswer()
        except ValueError as exc:  # aiortc: a section without a direction it can combine
            raise BadOffer(f"the SDP offer cannot be answered: {exc}") from None
        await self.set_local(answer)
        return str(self.pc.localDescription.sdp)

    async def set_local(self, description: RTCSessionDescription) -> None:
        """``setLocalDescription``: aiortc gathers here, on the node's one port in mux mode."""
        if self.mux is not None:
            aiortc_hooks.gather_on_mux(self.pc, self.mux.open_port)
        await self.pc.setLocalDescription(description)

    async def add_candidate(self, mid: str | None, candidate: str) -> bool:
        """A trickled remote candidate (``candidate:...`` line without ``a=``).

        Returns False, and tells aiortc nothing, for a candidate the node must not send checks
        to (:mod:`streaming.candidate_filter`); a malformed one is :class:`BadOffer`.
        """
        if self._candidates >= self.limits.max_candidates_per_peer:
            raise Capacity("too many ICE candidates for this peer")
        self._candidates += 1
        text = candidate[len("candidate:") :] if candidate.startswith("candidate:") else candidate
        try:
            parse(text)
            parsed = candidate_from_sdp(text)
        except (ValueError, IndexError, AssertionError) as exc:  # aiortc asserts on some fields
            raise BadOffer(f"malformed ICE candidate: {exc or 'unparseable'}") from None
        if verdict(text, self._policy) is not None:
            return False
        parsed.sdpMid = mid
        if mid is None:
            parsed.sdpMLineIndex = 0
        await self.pc.addIceCandidate(parsed)
        return True

    def queue_rtcp(self, dtls: RTCDtlsTransport, packet: bytes) -> None:
        """Send RTCP soon; dropped (not queued without bound) if the peer's queue is full."""
        if self._rtcp_task is None:
            self._rtcp_task = asyncio.get_running_loop().create_task(self._send_rtcp_loop())
        with contextlib.suppress(asyncio.QueueFull):
            self._rtcp_queue.put_nowait((dtls, packet))

    async def _send_rtcp_loop(self) -> None:
        while True:
            dtls, packet = await self._rtcp_queue.get()
            await aiortc_hooks.send_rtcp(dtls, packet)

    async def close(self) -> None:
        """Close the connection and cancel every task this peer owns; idempotent."""
        if self.closed.is_set():
            return
        self.closed.set()
        if self.consent is not None:
            await self.consent.close()
        if self._rtcp_task is not None:
            self._rtcp_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._rtcp_task
        closing = asyncio.ensure_future(self.pc.close())
        closing.add_done_callback(self._release)
        try:
            # Bounded: a close must never hang a node's shutdown (an aiortc transport stuck in a
            # handshake its other end abandoned). Shielded, so a close that takes longer goes on
            # by itself instead of being cancelled under another awaiter of the same close.
            await asyncio.wait_for(asyncio.shield(closing), CLOSE_TIMEOUT_S)
        except TimeoutError:
            logger.warning("peer %s: aiortc's close took over %s s; not waiting for it",
                           self.peer_id, CLOSE_TIMEOUT_S)
        except AttributeError:  # aiortc 1.16 fails closing a transceiver without a transport
            logger.debug("peer %s: aiortc could not close a transceiver", self.peer_id)

    def _release(self, closing: asyncio.Future[None]) -> None:
        """Once aiortc's close is over (however it ended), break the cycles it leaves
        (:func:`aiortc_hooks.release`), so the peer is freed now, not at a full collection."""
        if not closing.cancelled():
            closing.exception()  # retrieved: the awaiter above reports it
        # the guards' fast paths and the consent watch's callback point back at this leg: a
        # cycle through them would keep the leg, and with it ``pc``, until a full collection
        for guard in self.guards:
            guard.uninstall()
        self.guards.clear()
        if self.consent is not None:
            self.consent.on_expired = _ended_already
        try:
            aiortc_hooks.release(self.pc)
        except Exception:  # never let clean-up hide the close itself
            logger.exception("peer %s: releasing aiortc's objects failed", self.peer_id)
