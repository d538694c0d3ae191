"""Foreign sources (issue 18 §6, RFC 8445 §7.3.1.4, RFC 7983): while media flows, datagrams sent
to a peer's server port from another socket change nothing for that session.

Real aiortc peers over loopback through a real plane; the intruder is a plain UDP socket. Its
RTP and RTCP are the worst case: protected with the sender's own SRTP keys (taken from the test
client's DTLS session, with a replay state of their own), so only the source address gives them
away. Without the guard (streaming/transport_guard.py) they would be unprotected, forwarded and
acted on.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

import aiohttp
import aioice.stun
import pylibsrtp
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import RtcpByePacket, RtcpPsfbPacket
from OpenSSL import SSL
from prometheus_client.parser import text_string_to_metric_families

from streaming import MediaPlane
from tests.streaming.clients import Publisher, Viewer, publish, until, watch
from web.media import MEDIA_KEY

INTRUDER_SSRC = 0x0BADF00D
MARK = b"INJECTED"


def _stolen_session(dtls: RTCDtlsTransport) -> pylibsrtp.Session:
    """An outbound SRTP session with ``dtls``'s own sending keys, as a thief would hold."""
    selected = dtls._ssl.get_selected_srtp_profile()
    profile = next(p for p in dtls._srtp_profiles if p.openssl_profile == selected)
    material = dtls._ssl.export_keying_material(
        b"EXTRACTOR-dtls_srtp", 2 * (profile.key_length + profile.salt_length)
    )
    key = profile.get_key_and_salt(material, 1 if dtls._role == "server" else 0)
    policy = pylibsrtp.Policy(
        key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=profile.libsrtp_profile,
    )
    return pylibsrtp.Session(policy)


def _client_hello() -> bytes:
    """A real DTLS 1.2 ClientHello from OpenSSL."""
    connection = SSL.Connection(SSL.Context(SSL.DTLS_METHOD), None)
    connection.set_connect_state()
    with contextlib.suppress(SSL.WantReadError):
        connection.do_handshake()
    hello = bytes(connection.bio_read(4096))
    assert hello[0] == 22  # handshake record (RFC 6347 §4.1)
    return hello


def _server_address(leg: Any) -> tuple[str, int]:
    """The server's local address of the leg's nominated pair: where its media arrives."""
    pair = leg.dtls.transport._connection._nominated[1]
    host, port = pair.protocol.transport.get_extra_info("sockname")[:2]
    return host, port


def _client_dtls(client: Publisher | Viewer) -> RTCDtlsTransport:
    return client.pc.getTransceivers()[0].receiver.transport


class _Tap:
    """The server leg's inbound SRTP session, recording every RTCP packet it unprotects."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.rtcp: list[bytes] = []

    def unprotect(self, data: bytes) -> bytes:
        return bytes(self.session.unprotect(data))

    def unprotect_rtcp(self, data: bytes) -> bytes:
        clear = bytes(self.session.unprotect_rtcp(data))
        self.rtcp.append(clear)
        return clear


def _tap(leg: Any) -> _Tap:
    tap = _Tap(leg.dtls._rx_srtp)
    leg.dtls._rx_srtp = tap
    if hasattr(leg, "_rx_srtp"):  # a publisher leg unprotects straight from the socket
        leg._rx_srtp = tap
    return tap


class _Intruder:
    """A plain UDP socket of its own (another port, so another source address), of the
    family of whatever it is aimed at (the nominated pair may be IPv4 or IPv6 here)."""

    def __init__(self) -> None:
        self._sockets: dict[int, socket.socket] = {}

    def sendto(self, data: bytes, target: tuple[str, int]) -> None:
        family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
        if family not in self._sockets:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
            self._sockets[family] = sock
        self._sockets[family].sendto(data, target)

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()


def _intruder() -> _Intruder:
    return _Intruder()


async def _flowing(plane: MediaPlane) -> tuple[Publisher, Viewer]:
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.count("video") >= 30)
    return publisher, viewer


async def test_foreign_dtls_and_rtp_change_nothing_for_a_live_session(plane: MediaPlane) -> None:
    publisher, viewer = await _flowing(plane)
    leg: Any = plane.peer(publisher.peer_id)
    assert leg.guard_of(leg.dtls).fast is not None  # the intake's SRTP path sits behind it
    sender = publisher.pc.getTransceivers()[0].sender
    ssrc = sender._ssrc
    video_pt = publisher.pc.getTransceivers()[0]._codecs[0].payloadType
    inbound = leg._by_ssrc[ssrc]
    next_seq = inbound.stats.max_seq
    errors = leg.srtp_errors
    before = dict(plane.foreign.by_kind)
    stolen = _stolen_session(_client_dtls(publisher))

    intruder = _intruder()
    target = _server_address(leg)
    intruder.sendto(_client_hello(), target)
    for n in range(3, 23):  # the publisher's next sequence numbers, before it sends them
        header = struct.pack("!BBHII", 0x80, video_pt, (next_seq + n) % 65536, 0, ssrc)
        intruder.sendto(stolen.protect(header + b"\x10" + MARK * 8), target)
    intruder.close()

    count = viewer.count("video")
    await until(lambda: viewer.count("video") >= count + 60)  # the real stream goes on
    payloads = [p[3] for p in viewer.received["video"].packets]
    assert not any(MARK in payload for payload in payloads)  # nothing injected reached it
    assert leg.srtp_errors == errors  # no real packet was taken for a replay of a forged one
    assert publisher.pc.connectionState == "connected"
    assert leg.pc.connectionState == "connected"
    assert leg.dtls.state == "connected"
    after = plane.foreign.by_kind
    assert (after["dtls"] - before["dtls"], after["rtp"] - before["rtp"]) == (1, 20)
    await viewer.close()
    await publisher.close()


async def test_foreign_rtcp_bye_and_pli_are_ignored(plane: MediaPlane) -> None:
    publisher, viewer = await _flowing(plane)
    publisher_leg: Any = plane.peer(publisher.peer_id)
    viewer_leg: Any = plane.peer(viewer.peer_id)
    media_ssrc = publisher.pc.getTransceivers()[0].sender._ssrc
    publisher_tap, viewer_tap = _tap(publisher_leg), _tap(viewer_leg)
    before = plane.foreign.by_kind["rtp"]

    intruder = _intruder()
    bye = bytes(RtcpByePacket(sources=[media_ssrc, INTRUDER_SSRC]))
    intruder.sendto(_stolen_session(_client_dtls(publisher)).protect_rtcp(bye),
                    _server_address(publisher_leg))
    viewer_ssrc = viewer.received["video"].ssrc
    pli = bytes(RtcpPsfbPacket(fmt=1, ssrc=INTRUDER_SSRC, media_ssrc=viewer_ssrc))
    intruder.sendto(_stolen_session(_client_dtls(viewer)).protect_rtcp(pli),
                    _server_address(viewer_leg))
    intruder.close()

    count = viewer.count("video")
    await until(lambda: viewer.count("video") >= count + 60)
    await until(lambda: len(viewer_tap.rtcp) > 0 and len(publisher_tap.rtcp) > 0)  # real RTCP
    forged = INTRUDER_SSRC.to_bytes(4, "big")
    assert not any(forged in packet for packet in publisher_tap.rtcp + viewer_tap.rtcp)
    assert not viewer.ended["video"].is_set()
    assert "video" in plane.live_sources("hall")
    assert plane.foreign.by_kind["rtp"] - before == 2
    await viewer.close()
    await publisher.close()


class _Answers(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.messages: list[aioice.stun.Message] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.messages.append(aioice.stun.parse_message(data))


async def test_a_stun_check_without_valid_credentials_from_elsewhere_is_refused(
    plane: MediaPlane,
) -> None:
    publisher, viewer = await _flowing(plane)
    leg: Any = plane.peer(viewer.peer_id)
    connection = leg.dtls.transport._connection
    nominated = connection._nominated[1]
    remote = list(connection._remote_candidates)
    request = aioice.stun.Message(
        message_method=aioice.stun.Method.BINDING, message_class=aioice.stun.Class.REQUEST
    )
    request.attributes["USERNAME"] = f"{connection.local_username}:intruder"
    request.attributes["PRIORITY"] = 2_000_000_000
    request.attributes["ICE-CONTROLLING"] = 1
    request.attributes["USE-CANDIDATE"] = None
    request.add_message_integrity(b"not-the-password")

    target = _server_address(leg)
    loop = asyncio.get_running_loop()
    transport, answers = await loop.create_datagram_endpoint(
        _Answers, local_addr=("::" if ":" in target[0] else "0.0.0.0", 0)
    )
    transport.sendto(bytes(request), target)
    await until(lambda: len(answers.messages) == 1)
    transport.close()
    assert answers.messages[0].message_class == aioice.stun.Class.ERROR  # 401, nothing else
    assert answers.messages[0].attributes["ERROR-CODE"][0] == 401
    assert connection._nominated[1] is nominated
    assert list(connection._remote_candidates) == remote
    count = viewer.count("video")
    await until(lambda: viewer.count("video") >= count + 30)
    await viewer.close()
    await publisher.close()


async def test_before_any_check_succeeded_only_stun_gets_in(plane: MediaPlane) -> None:
    """Between the answer and the first successful check, a ClientHello or RTP sent to the
    answer's candidate port is dropped; the publisher then connects as usual."""
    publisher = Publisher()
    answer = await plane.publish("hall", "alice", await publisher.offer())
    leg: Any = plane.peer(answer.peer_id)
    ports = {  # this machine's host candidates
        (line.split()[4], int(line.split()[5])) for line in answer.sdp.splitlines()
        if line.startswith("a=candidate:")
    }
    assert ports
    intruder = _intruder()
    for target in ports:
        intruder.sendto(_client_hello(), target)
        intruder.sendto(struct.pack("!BBHII", 0x80, 96, 1, 0, 1) + MARK, target)
    intruder.close()
    await until(lambda: plane.foreign.by_kind["dtls"] == len(ports))
    assert plane.foreign.by_kind["rtp"] == len(ports)
    assert sum(g.dropped for g in leg.guards) == 2 * len(ports)

    await publisher.accept(answer.sdp)
    await until(lambda: any(s.packets > 0 for s in plane.live_sources("hall").values()))
    assert leg.dtls.state == "connected"
    await publisher.close()


async def test_the_node_reports_foreign_datagrams_by_kind_in_metrics(pavilion_app: Any) -> None:
    app = await pavilion_app(demo=False)
    plane = app.app[MEDIA_KEY]
    publisher, viewer = await _flowing(plane)
    intruder = _intruder()
    target = _server_address(plane.peer(viewer.peer_id))
    intruder.sendto(_client_hello(), target)
    for _ in range(3):
        intruder.sendto(struct.pack("!BBHII", 0x80, 96, 1, 0, 1) + MARK, target)
    intruder.sendto(b"\xff" + MARK, target)
    intruder.close()
    await until(lambda: plane.foreign.total() == 5)
    async with aiohttp.ClientSession() as http, http.get(app.url + "/metrics") as response:
        text = await response.text()
    samples = {
        sample.labels["kind"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "pavilion_media_foreign_datagrams_total"
    }
    assert samples == {"dtls": 1, "rtp": 3, "other": 1}
    await viewer.close()
    await publisher.close()
