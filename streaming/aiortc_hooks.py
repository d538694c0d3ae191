"""Every aiortc / aioice / pylibsrtp internal the media plane touches, named in one place.

aiortc decodes every received track and encodes every sent one (DESIGN.md §3); Pavilion uses it
for SDP, ICE, DTLS and the SRTP keys, and moves packets itself. That needs a few private names.
They are all here, reached only through the functions below, and :func:`check` verifies them at
start-up against the installed versions (aiortc is pinned in pyproject.toml): a missing one
refuses start with one line naming it, instead of failing on the first packet.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import aioice.ice
import aioice.stun
import aiortc
import pylibsrtp
from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import (
    SRTP_PROFILES,
    RTCCertificate,
    RTCDtlsTransport,
    SRTPProtectionProfile,
)
from aiortc.rtcicetransport import RTCIceGatherer, RTCIceTransport
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtpsender import RTCRtpSender
from pylibsrtp._binding import ffi, lib

AIORTC_VERSION = "1.16.0"

# (owner, name, kind): kind "method" = attribute of the class, "field" = set in __init__.
HOOKS: tuple[tuple[type, str, str], ...] = (
    (RTCDtlsTransport, "_handle_rtp_data", "method"),  # replaced per instance: publisher intake
    (RTCDtlsTransport, "_handle_rtcp_data", "method"),  # replaced per instance: RTCP intake
    (RTCDtlsTransport, "_send_rtp", "method"),  # low-rate RTCP to a publisher
    (RTCDtlsTransport, "_rx_srtp", "field"),
    (RTCDtlsTransport, "_tx_srtp", "field"),
    # issue 19: the outbound master key again, for the compiled AES-GCM (srtp_tx_master)
    (RTCDtlsTransport, "_ssl", "field"),
    (RTCDtlsTransport, "_role", "field"),
    (RTCDtlsTransport, "_srtp_profiles", "field"),
    (SRTPProtectionProfile, "get_key_and_salt", "method"),
    (RTCIceTransport, "_connection", "field"),
    (aioice.ice.Connection, "_nominated", "field"),
    (aioice.ice.Connection, "_protocols", "field"),  # every local socket: foreign sources
    (aioice.ice.Connection, "_query_consent_task", "field"),  # replaced: streaming/consent.py
    (aioice.ice.Connection, "build_request", "method"),  # a consent check (RFC 7675)
    (aioice.ice.Connection, "remote_password", "field"),
    (aioice.ice.StunProtocol, "request", "method"),
    (aioice.ice.CandidatePair, "protocol", "field"),
    (aioice.ice.CandidatePair, "state", "field"),  # a valid pair may carry data (RFC 8445)
    (aioice.ice.Connection, "_check_list", "field"),
    (aioice.ice.CandidatePair, "remote_addr", "method"),
    (aioice.ice.StunProtocol, "transport", "annotation"),
    (aioice.ice.StunProtocol, "datagram_received", "method"),  # replaced per instance: intake
    (RTCRtpReceiver, "receive", "method"),  # replaced per instance: no decoder thread
    (RTCRtpSender, "send", "method"),  # replaced per instance: no encoder, no RTCP loop
    (RTCRtpSender, "_ssrc", "field"),
    (pylibsrtp.Session, "_srtp", "field"),
    (RTCCertificate, "_create_ssl_context", "method"),  # overridden: DTLS ciphers (RSA peers)
    (RTCPeerConnection, "__certificates", "field"),  # replaced per instance: that certificate
    # one UDP port per node (streaming/udp_mux.py): gathering on the shared socket
    (aioice.ice.Connection, "get_component_candidates", "method"),  # replaced per instance
    (aioice.ice.Connection, "_protocols", "field"),
    (aioice.ice.Connection, "_local_username", "field"),  # set: a ufrag unique on the node
    (aioice.ice.StunProtocol, "local_candidate", "annotation"),
    (aioice.ice.StunProtocol, "connection_made", "method"),
    (aioice.ice.StunProtocol, "connection_lost", "method"),
    (RTCIceGatherer, "_connection", "field"),
    # dropped per instance: ~1,000 objects per video receiver, never fed (we intercept RTP)
    (RTCRtpReceiver, "__remote_bitrate_estimator", "field"),
    (aioice.ice.Connection, "_check_list", "field"),  # emptied on release: pair -> protocol
    # ICE-TCP (streaming/tcp_mux.py): a peer-reflexive candidate learned over TCP says so
    (aioice.ice.Connection, "_remote_candidates", "field"),
    (aioice.ice.Connection, "check_start", "method"),  # replaced per instance: TCP waits
    (aioice.ice.Connection, "ice_controlling", "field"),
    (aioice.ice.CandidatePair, "local_candidate", "method"),
    # aioice.ice.Connection._protocols (listed above) -> connection cycles, emptied too
)
LIB_FUNCTIONS = ("srtp_protect", "srtp_protect_rtcp")


def check(hooks: tuple[tuple[type, str, str], ...] = HOOKS) -> None:
    """Raise ``RuntimeError`` naming the first missing internal (or a wrong aiortc version)."""
    if aiortc.__version__ != AIORTC_VERSION:
        raise RuntimeError(
            f"aiortc {aiortc.__version__} is installed; Pavilion's media plane needs exactly"
            f" {AIORTC_VERSION} (streaming/aiortc_hooks.py)"
        )
    for owner, name, kind in hooks:
        if not _present(owner, name, kind):
            raise RuntimeError(
                f"aiortc internal missing: {owner.__module__}.{owner.__qualname__}.{name}"
            )
    for func in LIB_FUNCTIONS:
        if not hasattr(lib, func):
            raise RuntimeError(f"libsrtp function missing from pylibsrtp: {func}")
    # OpenSSL refuses a cipher list it knows none of: fail at start, not at the first handshake
    PeerCertificate.generateCertificate()._create_ssl_context(SRTP_PROFILES)


MuxGather = Callable[[Any, int], list[Any]]


def gather_on_mux(pc: RTCPeerConnection, open_port: MuxGather) -> None:
    """Make every ICE agent of ``pc`` that has not gathered yet gather on the node's one UDP
    port: ``open_port(connection, component)`` returns its ``StunProtocol``s (already
    connected to the mux's virtual transports). Call before each ``setLocalDescription``
    (aiortc gathers there); an agent that gathered already is left as it is.
    """
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        if dtls is None:
            continue
        gatherer: RTCIceGatherer = dtls.transport.iceGatherer
        connection = gatherer._connection
        if gatherer.state != "new" or "get_component_candidates" in vars(connection):
            continue

        async def gather(component: int, addresses: list[str], timeout: int = 5,  # noqa: ASYNC109
                         connection: Any = connection) -> list[Any]:
            protocols = open_port(connection, component)
            connection._protocols += protocols
            return [protocol.local_candidate for protocol in protocols]

        connection.get_component_candidates = gather  # type: ignore[method-assign]


def set_local_ufrag(connection: aioice.ice.Connection, ufrag: str) -> None:
    """Give an ICE agent (before it gathers) the local ufrag the UDP mux routes it by; aiortc
    reads it back into the SDP after gathering."""
    connection._local_username = ufrag


def rebundle(pc: RTCPeerConnection, mids: list[str]) -> None:
    """Put every transceiver of the offer's BUNDLE group (``mids``, RFC 9143) on the first
    one's transport, after ``setRemoteDescription`` and before the answer gathers.

    aiortc's "balanced" policy gives a second m-line of a kind the first one's transport when
    it creates its transceiver and marks it bundled; its BUNDLE step then moves only the first
    onto the primary transport, and leaves the second on a transport nothing starts (seen as
    port 9 and no media on a WHEP player's second audio track, issue 17). Public setters only.
    """
    if len(mids) < 2:
        return
    transceivers = {t.mid: t for t in pc.getTransceivers()}
    primary = transceivers.get(mids[0])
    if primary is None:
        return
    transport = primary.receiver.transport
    for mid in mids[1:]:
        other = transceivers.get(mid)
        if other is not None and other.receiver.transport is not transport:
            other.receiver.setTransport(transport)
            other.sender.setTransport(transport)


def _present(owner: type, name: str, kind: str) -> bool:
    if kind == "method":
        return hasattr(owner, name)
    if kind == "annotation":
        return name in getattr(owner, "__annotations__", {})
    try:
        source = inspect.getsource(owner.__init__)  # type: ignore[misc]
    except (OSError, TypeError):
        return False
    return f"self.{name} =" in source or f"self.{name}:" in source


RtpHandler = Callable[[bytes, int], Awaitable[None]]
RtcpHandler = Callable[[bytes], Awaitable[None]]


def intercept_rtp(dtls: RTCDtlsTransport, on_rtp: RtpHandler) -> None:
    """Hand every decrypted RTP packet of ``dtls`` to ``on_rtp(data, arrival_ms)``.

    This is the point right after SRTP unprotect: aiortc's RtpPacket parsing, RtpRouter, jitter
    buffer and decoder never see the packet.
    """
    dtls._handle_rtp_data = on_rtp  # type: ignore[method-assign,assignment]


def intercept_rtcp(dtls: RTCDtlsTransport, on_rtcp: RtcpHandler) -> None:
    """Hand every decrypted RTCP compound packet of ``dtls`` to ``on_rtcp(data)``."""
    dtls._handle_rtcp_data = on_rtcp  # type: ignore[method-assign,assignment]


def replace_receive(receiver: RTCRtpReceiver, receive: Callable[[Any], Awaitable[None]]) -> None:
    """Replace ``receiver.receive(parameters)``: aiortc starts the decoder thread there."""
    receiver.receive = receive  # type: ignore[method-assign,assignment]


def replace_send(sender: RTCRtpSender, send: Callable[[Any], Awaitable[None]]) -> None:
    """Replace ``sender.send(parameters)``: aiortc starts its encoder and RTCP loops there."""
    sender.send = send  # type: ignore[method-assign,assignment]


def sender_ssrc(sender: RTCRtpSender) -> int:
    """The SSRC aiortc put in the SDP for this sender (RTP to a viewer, RTCP to a publisher)."""
    return int(sender._ssrc)


async def send_rtcp(dtls: RTCDtlsTransport, packet: bytes) -> None:
    """Protect and send one RTCP packet through aiortc (low rate: RR, NACK, PLI, REMB)."""
    try:
        await dtls._send_rtp(packet)
    except ConnectionError:
        pass  # the publisher is gone; its leg is being closed


def rx_session(dtls: RTCDtlsTransport) -> Any:
    """The transport's inbound ``pylibsrtp.Session`` (exists once DTLS is connected)."""
    if dtls._rx_srtp is None:
        raise RuntimeError("the DTLS transport has no SRTP session yet")
    return dtls._rx_srtp


DatagramFilter = Callable[[bytes, Any, Any], bool]  # (data, source address, StunProtocol)


def filter_datagrams(dtls: RTCDtlsTransport, handler: DatagramFilter) -> list[Any]:
    """Offer every datagram of every local socket of ``dtls``'s ICE connection to ``handler``
    before aioice sees it (streaming/transport_guard.py). Call once its candidates are gathered.

    ``handler(data, addr, protocol)`` returns True when it consumed (or dropped) the datagram;
    anything else goes on to aioice and aiortc as before. Returns the protocols hooked, for
    :func:`unfilter_datagrams` (aioice forgets its protocols when it closes).
    """
    ice: RTCIceTransport = dtls.transport
    protocols = list(ice._connection._protocols)
    for protocol in protocols:
        original = protocol.datagram_received

        def received(data: bytes, addr: Any, original: Any = original, protocol: Any = protocol
                     ) -> None:
            if not handler(data, addr, protocol):
                original(data, addr)

        protocol.datagram_received = received  # type: ignore[method-assign,assignment]
    return protocols


def unfilter_datagrams(protocols: list[Any]) -> None:
    """Undo :func:`filter_datagrams`: each hook points at a guard, which points at the DTLS
    transport; left in place, a closed peer's objects would wait for a full collection."""
    for protocol in protocols:
        _forget(protocol, ("datagram_received",))


# aioice's first STUN retransmission goes out this long after the request (stun.RETRY_RTO): an
# answer later than this may answer the retransmission, so it is no round-trip sample
CONSENT_RETRANSMIT_S = float(aioice.stun.RETRY_RTO)


def stop_ice_consent(dtls: RTCDtlsTransport) -> None:
    """Cancel aioice's own consent task (streaming/consent.py checks in its place)."""
    task = dtls.transport._connection._query_consent_task
    if task is not None:
        task.cancel()


async def consent_check(dtls: RTCDtlsTransport) -> bool:
    """One RFC 7675 consent check on the nominated pair: a Binding request authenticated with
    the remote password (aioice drops a response that is not), retransmitted once; True when
    answered from the address it was sent to (§5.1)."""
    connection = dtls.transport._connection
    pair = connection._nominated.get(1)
    password = connection.remote_password
    if pair is None or password is None:
        return False
    request = connection.build_request(pair, nominate=False)
    try:
        _, addr = await pair.protocol.request(
            request, pair.remote_addr, integrity_key=password.encode("utf8"), retransmissions=1
        )
    except (aioice.stun.TransactionError, OSError, ConnectionError):
        return False
    return (addr[0], addr[1]) == pair.remote_addr


def valid_remote(dtls: RTCDtlsTransport, protocol: Any, addr: tuple[str, int]) -> bool:
    """Whether ``addr`` is the remote address of a valid pair on the local socket ``protocol``:
    one whose authenticated connectivity check succeeded (RFC 8445 §7.2.5.3.2)."""
    succeeded = aioice.ice.CandidatePair.State.SUCCEEDED
    return any(
        pair.protocol is protocol and pair.state is succeeded and pair.remote_addr == addr
        for pair in dtls.transport._connection._check_list
    )


def only_path_gone(connection: aioice.ice.Connection, protocol: Any,
                   addr: tuple[str, int]) -> bool:
    """Whether ``connection``'s nominated pair (component 1: RTP and RTCP are muxed) is the
    one from ``protocol`` to ``addr``, and no other valid pair is left whose transport still
    reaches its remote address (an ICE-TCP pair whose connection closed stays ``SUCCEEDED``
    in aioice: its transport says whether it still reaches, streaming/virtual_transport.py).

    aioice keeps the nominated pair in ``_nominated`` and replaces it when the controlling
    agent nominates another valid pair (RFC 8445 §7.3.1.5; a controlled aioice does on the
    next check with USE-CANDIDATE): with another valid pair left, the client may move to it.
    """
    nominated = connection._nominated.get(1)
    if nominated is None or nominated.protocol is not protocol or nominated.remote_addr != addr:
        return False
    succeeded = aioice.ice.CandidatePair.State.SUCCEEDED
    return not any(
        pair is not nominated and pair.state is succeeded and _reaches(pair)
        for pair in connection._check_list
    )


def _reaches(pair: Any) -> bool:
    transport = pair.protocol.transport
    reaches = getattr(transport, "reaches", None)
    if reaches is None:  # a socket of its own (per-peer mode): there while open
        return not transport.is_closing()
    return bool(reaches(pair.remote_addr))


def ice_agent(dtls: RTCDtlsTransport) -> aioice.ice.Connection:
    """The aioice agent under ``dtls``'s ICE transport."""
    ice: RTCIceTransport = dtls.transport
    return ice._connection


def srtp_pointer(dtls: RTCDtlsTransport) -> Any:
    """The libsrtp ``srtp_t`` of the transport's outbound session (for in-place protect)."""
    session = dtls._tx_srtp
    if session is None:
        raise RuntimeError("the DTLS transport has no SRTP session yet")
    return session._srtp[0]


def srtp_owner(dtls: RTCDtlsTransport) -> Any:
    """The pylibsrtp Session behind :func:`srtp_pointer`: whoever protects through the pointer
    keeps this, so the ``srtp_t`` is not freed under it."""
    return dtls._tx_srtp


def nominated_pair(dtls: RTCDtlsTransport) -> Any:
    """The ICE connection's nominated candidate pair for RTP (component 1), or ``None``.

    aioice replaces it when the controlling agent nominates another pair after the connection
    is up (RFC 8445 §8.1.1; a browser does when its network changes), so the fan-out asks
    again rather than keeping the first one.
    """
    ice: RTCIceTransport = dtls.transport
    return ice._connection._nominated.get(1)


def nominated_pairs(dtls: RTCDtlsTransport) -> dict[int, Any]:
    """The ICE connection's nominated pairs by component: aioice's own dict, updated in place
    (never replaced), so a caller may keep it and read it per datagram."""
    ice: RTCIceTransport = dtls.transport
    return ice._connection._nominated


def nominated_socket(dtls: RTCDtlsTransport) -> tuple[socket.socket, tuple[str, int] | None]:
    """A duplicate of the nominated candidate pair's UDP socket, and the remote address.

    Sending on a dup'd non-blocking socket skips aioice's and asyncio's per-datagram Python
    (DESIGN.md §3: ``sendto`` is the largest cost of forwarding); the duplicate is ours to close.
    In one-port mode (streaming/udp_mux.py) the pair's transport is the mux's, so this is a
    duplicate of the node's one shared socket: every viewer's copies leave on that one kernel
    socket (its own descriptor, so each sender may wait for writability on its own).
    """
    pair = nominated_pair(dtls)
    if pair is None:
        raise RuntimeError("the ICE connection has no nominated candidate pair yet")
    return pair_socket(pair)


def shared_socket(dtls: RTCDtlsTransport) -> socket.socket | None:
    """The node's one UDP socket the nominated pair is on (one-port mode, issue 19), itself,
    not a duplicate (not the caller's to close); ``None`` in per-peer mode or before ICE
    nominated. Copies of one packet to many viewers on it can leave in one batched call."""
    pair = nominated_pair(dtls)
    if pair is None or not getattr(pair.protocol.transport, "shared", False):
        return None
    sock: socket.socket = pair.protocol.transport.get_extra_info("socket")
    return sock


def pair_socket(pair: Any) -> tuple[socket.socket, tuple[str, int] | None]:
    """A non-blocking duplicate of ``pair``'s local UDP socket, and its remote address; for
    an ICE-TCP pair (streaming/tcp_mux.py) a connected socket whose datagrams leave framed on
    the pair's TCP connection, and ``None`` (send, not sendto)."""
    media_socket = getattr(pair.protocol.transport, "media_socket", None)
    if media_socket is not None:
        sock: socket.socket = media_socket(pair.remote_addr)
        return sock, None
    transport_socket = pair.protocol.transport.get_extra_info("socket")
    dup = socket.socket(fileno=socket.dup(transport_socket.fileno()))
    dup.setblocking(False)
    return dup, pair.remote_addr


def learned_over_tcp(connection: aioice.ice.Connection, addr: tuple[str, int]) -> None:
    """Mark the peer-reflexive candidate aioice learned from a check at ``addr`` on an ICE-TCP
    connection as what it is: aioice 0.13 learns every one as ``udp`` (RFC 6544 §7.2.1: a
    passive candidate's peer is an active one). Only its transport and tcptype change; its pair
    already sends on the connection's candidate."""
    for candidate in connection._remote_candidates:
        if (candidate.type == "prflx" and candidate.transport == "udp"
                and (candidate.host, candidate.port) == addr):
            candidate.transport = "tcp"
            candidate.tcptype = "active"


def defer_tcp_checks(connection: aioice.ice.Connection, grace_s: float) -> None:
    """Hold each check the agent starts on a TCP pair for ``grace_s`` while it is the
    controlling agent (the node offered: Socket.IO viewers).

    aioice nominates the first pair whose check succeeds (RFC 8445 §8.1.1 leaves the choice to
    the controlling agent), not the best one: a client that reached the node over both UDP and
    TCP would be held on TCP whenever its TCP check happened to finish first, though RFC 6544
    §4.5 ranks UDP above it. Held, the TCP pair is still waiting when a UDP pair is nominated,
    and aioice drops it then (§8.1.2); a client with no UDP path starts ``grace_s`` later.
    Call before the agent's checks start; :func:`release` undoes it.
    """
    agent = weakref.ref(connection)  # no cycle through the replacement: freed without a gc
    original = aioice.ice.Connection.check_start

    async def check_start(pair: Any) -> None:
        held = agent()
        if held is None:
            return
        if held.ice_controlling and pair.local_candidate.transport == "tcp":
            await asyncio.sleep(grace_s)
        await original(held, pair)

    connection.check_start = check_start  # type: ignore[method-assign]


def srtp_buffers(size: int) -> tuple[Any, Any, memoryview]:
    """A libsrtp working buffer: (cdata, length pointer, writable view)."""
    cdata = ffi.new("char[]", size)
    length = ffi.new("int *")
    return cdata, length, memoryview(ffi.buffer(cdata))


# libsrtp's srtp_protect(srtp_t, void *rtp, int *len): protects RTP in place, returns a status
SRTP_PROTECT: Callable[[Any, Any, Any], int] = lib.srtp_protect


def srtp_addresses(session: Any) -> tuple[int, int]:
    """(the ``srtp_t`` ``session`` points at, libsrtp's ``srtp_protect``) as addresses, for
    the compiled fan-out (streaming/_fastsend.c ``Port``), which calls the very libsrtp that
    pylibsrtp loaded: no second copy of it is linked, and sessions stay pylibsrtp's."""
    protect = ffi.addressof(lib, "srtp_protect")
    return int(ffi.cast("uintptr_t", session)), int(ffi.cast("uintptr_t", protect))


def srtp_tx_master(dtls: RTCDtlsTransport) -> tuple[str, bytes] | None:
    """The negotiated SRTP profile (OpenSSL's name, ``SRTP_AEAD_AES_128_GCM``...) and this
    side's outbound master key || salt, exported from the DTLS session again as aiortc's
    ``_setup_srtp`` did (RFC 5705: the same label and length export the same octets at every
    call). ``None`` before DTLS set up SRTP."""
    ssl = dtls._ssl
    if ssl is None or dtls._tx_srtp is None:
        return None
    selected = ssl.get_selected_srtp_profile()
    profile = next((p for p in dtls._srtp_profiles if p.openssl_profile == selected), None)
    if profile is None:
        return None
    material = ssl.export_keying_material(
        b"EXTRACTOR-dtls_srtp", 2 * (profile.key_length + profile.salt_length))
    side = 1 if dtls._role == "server" else 0  # RFC 5764 §4.2: the server's keys come second
    return selected.decode(), profile.get_key_and_salt(material, side)


def c_protect(function: int, ctx: int) -> tuple[Callable[[Any, Any, Any], int], Any]:
    """A C function with libsrtp's ``srtp_protect`` signature, at ``function``, and its first
    argument ``ctx``, as callables for the Egress's Python path (through pylibsrtp's cffi)."""
    protect = ffi.cast("int(*)(void *, void *, int *)", function)
    return protect, ffi.cast("void *", ctx)


def srtp_protect_rtcp(session: Any, cdata: Any, length: Any) -> int:
    """Protect RTCP in place in ``cdata`` (``length[0]`` bytes); returns libsrtp's status."""
    return int(lib.srtp_protect_rtcp(session, cdata, length))


# DTLS 1.2 cipher suites a Pavilion peer offers (as DTLS client) and accepts (as DTLS server):
# aiortc's list names only ECDHE-ECDSA suites, and in (D)TLS 1.2 the suite fixes the *server's*
# certificate type (RFC 5246 §7.4.2, RFC 8422 §2), so a peer with an RSA certificate
# (GStreamer webrtcbin's default, some hardware encoders) that is the DTLS server — every WHIP or
# WHEP answer says `a=setup:active` — found no suite in common and sent a fatal
# handshake_failure alert (issue 14 §6). This is libwebrtc's list: ECDHE only (forward secrecy),
# AEAD first, both certificate types (RFC 8827 §6.5 requires ECDSA; RSA is common in practice).
DTLS_CIPHERS = b":".join(
    (
        b"ECDHE-ECDSA-AES128-GCM-SHA256",
        b"ECDHE-RSA-AES128-GCM-SHA256",
        b"ECDHE-ECDSA-AES256-GCM-SHA384",
        b"ECDHE-RSA-AES256-GCM-SHA384",
        b"ECDHE-ECDSA-CHACHA20-POLY1305",
        b"ECDHE-RSA-CHACHA20-POLY1305",
        b"ECDHE-ECDSA-AES128-SHA",
        b"ECDHE-RSA-AES128-SHA",
        b"ECDHE-ECDSA-AES256-SHA",
        b"ECDHE-RSA-AES256-SHA",
    )
)


class PeerCertificate(RTCCertificate):
    """aiortc's certificate (ECDSA P-256, self-signed) whose DTLS context accepts RSA peers too.

    Only the cipher list changes: aiortc's context already verifies nothing but the peer's
    fingerprint (any key type; sha-256/384/512 per RFC 8122 §5) and leaves OpenSSL's default
    signature algorithms and curves, which include RSA (PKCS#1 and PSS) and ECDSA.
    """

    def _create_ssl_context(self, srtp_profiles: list[Any]) -> Any:
        context = super()._create_ssl_context(srtp_profiles)
        context.set_cipher_list(DTLS_CIPHERS)
        return context


def use_certificate(pc: RTCPeerConnection, certificate: RTCCertificate) -> None:
    """Make ``pc`` use ``certificate`` for DTLS (RTCConfiguration has no ``certificates``).

    Call before the first transceiver exists: aiortc hands the certificate to each DTLS
    transport when it creates it (on ``addTransceiver`` or ``setRemoteDescription``).
    """
    certificates: list[RTCCertificate] = pc._RTCPeerConnection__certificates  # type: ignore[attr-defined]
    certificates[:] = [certificate]


def drop_estimators(pc: RTCPeerConnection) -> None:
    """Drop aiortc's receive-side bandwidth estimator of each of ``pc``'s receivers.

    aiortc builds one per video receiver (a 1,000-bucket rate counter: ~1,000 objects) and
    feeds it from its own RTP path, which Pavilion's legs bypass (:func:`intercept_rtp`; a
    viewer's receivers receive nothing at all): it only held memory. aiortc skips a ``None``
    estimator (audio receivers have none). Call once transceivers exist.
    """
    for transceiver in pc.getTransceivers():
        transceiver.receiver._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]


def release(pc: RTCPeerConnection) -> None:
    """Break the reference cycles a closed ``pc`` leaves, so it is freed at once.

    Call after ``pc.close()`` returned. aiortc's objects point at each other (the DTLS
    transport's router holds the receivers, which hold the transport; transports hold the
    peer connection's state-change handlers; aioice's protocols hold their connection) and
    our per-instance hooks point at the legs that own ``pc``: without this, a closed peer
    and everything it held waited for a full garbage collection.
    """
    transceivers = pc.getTransceivers()
    for transceiver in transceivers:
        for obj in (transceiver.receiver, transceiver.sender):
            _forget(obj, ("receive", "send"))
        receiver_dtls = transceiver.receiver.transport
        if receiver_dtls is not None:
            _release_dtls(receiver_dtls)


def _forget(obj: Any, names: tuple[str, ...]) -> None:
    """Drop the per-instance replacements ``names`` (the class's methods show again)."""
    for name in names:
        obj.__dict__.pop(name, None)


def _release_dtls(dtls: RTCDtlsTransport) -> None:
    _forget(dtls, ("_handle_rtp_data", "_handle_rtcp_data"))
    dtls.remove_all_listeners()
    ice: RTCIceTransport = dtls.transport
    ice.remove_all_listeners()
    ice.iceGatherer.remove_all_listeners()
    connection = ice._connection
    # gather_on_mux's and defer_tcp_checks': each holds the connection
    _forget(connection, ("get_component_candidates", "check_start"))
    for pair in connection._check_list:
        _forget(pair.protocol, ("datagram_received",))  # intercept_datagrams' hook
    for protocol in connection._protocols:
        _forget(protocol, ("datagram_received",))
    connection._check_list.clear()  # pairs -> protocols -> the connection
    connection._nominated.clear()
    connection._protocols.clear()
