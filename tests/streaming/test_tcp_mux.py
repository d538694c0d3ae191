"""ICE-TCP on the node's one TCP port (streaming/tcp_mux.py, issue 19 §1): real sockets, a real
plane with aiortc peers on UDP beside, and hostile TCP clients that must change nothing."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioice import stun

from config import MediaLimits
from streaming import MediaPlane
from streaming.tcp_framing import FrameReader, frame
from streaming.tcp_mux import TcpLimits, TcpMux, passive_priority
from tests.fixtures.ports import free_media_port
from tests.streaming.clients import Publisher, Viewer, publish, until, watch
from tests.streaming.test_udp_mux import client_host


@pytest.fixture
async def tcp_plane() -> AsyncIterator[MediaPlane]:
    """One UDP port and ICE-TCP on the same number, on this host's addresses."""
    port = free_media_port()
    plane = MediaPlane(MediaLimits(udp_port=port, tcp_port=port, allow_private_candidates=True,
                                   allow_loopback_candidates=True))
    yield plane
    await plane.aclose()


def tcp_of(plane: MediaPlane) -> TcpMux:
    assert plane.mux is not None and plane.mux.tcp is not None
    return plane.mux.tcp


def attribute(sdp: str, name: str) -> str:
    return next(line.split(":", 1)[1] for line in sdp.splitlines()
                if line.startswith(f"a={name}:"))


def binding_request(username: str, password: str, controlling: bool = True) -> bytes:
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = username
    request.attributes["PRIORITY"] = 1_845_501_695
    request.attributes["ICE-CONTROLLING" if controlling else "ICE-CONTROLLED"] = 7
    request.add_message_integrity(password.encode())
    request.add_fingerprint()
    return bytes(request)


class Client:
    """A raw TCP client of the node's ICE-TCP port that reads RFC 4571 frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames = FrameReader()
        self.pending: list[bytes] = []

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection(client_host(), port)
        return cls(reader, writer)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.writer.get_extra_info("sockname")[:2]
        return host, port

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def message(self, within: float = 5) -> bytes:
        while not self.pending:
            data = await asyncio.wait_for(self.reader.read(65_536), within)
            if not data:
                raise ConnectionError("closed by the node")
            self.pending += self.frames.feed(data)
        return self.pending.pop(0)

    async def closed_by_node(self, within: float) -> bool:
        """True once the node closed the connection (EOF or reset)."""
        try:
            while await asyncio.wait_for(self.reader.read(65_536), within):
                pass
        except ConnectionResetError:
            pass
        self.writer.close()
        return True

    def close(self) -> None:
        self.writer.close()


async def streaming_pair(plane: MediaPlane) -> tuple[Publisher, Viewer]:
    publisher = await publish(plane, "hall", codec="vp8")
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.frames.get("video", 0) >= 5)
    return publisher, viewer


async def still_playing(viewer: Viewer) -> None:
    frames = viewer.frames["video"]
    await until(lambda: viewer.frames["video"] >= frames + 10)


def check_for(publisher: Publisher) -> bytes:
    """A correctly signed check for the node's agent of ``publisher`` (as its browser would)."""
    ours = attribute(publisher.answer_sdp, "ice-ufrag")
    theirs = attribute(publisher.pc.localDescription.sdp, "ice-ufrag")
    return binding_request(f"{ours}:{theirs}", attribute(publisher.answer_sdp, "ice-pwd"))


async def test_answers_carry_a_passive_tcp_candidate_below_udp(tcp_plane: MediaPlane) -> None:
    publisher, viewer = await streaming_pair(tcp_plane)  # the aiortc peers use UDP, unharmed
    tcp = tcp_of(tcp_plane)
    lines = [line for line in publisher.answer_sdp.splitlines() if " tcp " in line]
    assert lines and all(line.endswith("typ host tcptype passive") for line in lines), lines
    assert {int(line.split()[5]) for line in lines} == {tcp.port}
    udp = [int(line.split()[3]) for line in publisher.answer_sdp.splitlines()
           if line.startswith("a=candidate:") and " udp " in line]
    assert all(int(line.split()[3]) == passive_priority(1) < min(udp) for line in lines)
    # RFC 8445 §5.1.2.1 with RFC 6544 §4.2: type 90, direction passive (4), component 1
    assert passive_priority(1) == (90 << 24) + (((4 << 13) | 8191) << 8) + 255
    await viewer.close()
    await publisher.close()


async def test_a_signed_check_over_tcp_is_answered_and_checked_back(
    tcp_plane: MediaPlane,
) -> None:
    """The node answers on the connection, validates it, and its triggered check (RFC 6544
    §7.2) comes back on the same connection, once: no retransmission over TCP (§7.1)."""
    publisher, viewer = await streaming_pair(tcp_plane)
    tcp = tcp_of(tcp_plane)
    client = await Client.connect(tcp.port)
    await client.send(frame(check_for(publisher)))
    answer = stun.parse_message(await client.message())
    assert answer.message_class == stun.Class.RESPONSE
    assert answer.attributes["XOR-MAPPED-ADDRESS"] == client.address
    await until(lambda: tcp.pending == 0)
    triggered = stun.parse_message(await client.message())
    assert triggered.message_class == stun.Class.REQUEST
    assert triggered.attributes["USERNAME"].startswith(
        attribute(publisher.pc.localDescription.sdp, "ice-ufrag") + ":")
    with pytest.raises(TimeoutError):  # aioice retransmits after 0.5 s, 1.5 s: not over TCP
        again = await client.message(within=2.5)
        raise AssertionError(f"a second request on the connection: {again!r}")
    connection = tcp_plane.peer(publisher.peer_id).dtls.transport._connection
    learned = [c for c in connection._remote_candidates if c.port == client.address[1]]
    assert [(c.type, c.transport, c.tcptype) for c in learned] == [("prflx", "tcp", "active")]
    client.close()
    await still_playing(viewer)
    await viewer.close()
    await publisher.close()


async def test_a_controlling_agent_holds_its_tcp_checks_so_udp_can_win(
    tcp_plane: MediaPlane,
) -> None:
    """The node offers to a viewer (it controls nomination): its check back over TCP waits
    ``udp_first_s``, so a client whose UDP works is nominated on UDP (aioice nominates the
    first pair that succeeds); the viewer's UDP session is untouched by the TCP pair."""
    from tests.streaming.clients import watch_offered

    publisher = await publish(tcp_plane, "hall", codec="vp8")
    viewer = await watch_offered(tcp_plane, "hall")
    await until(lambda: viewer.frames.get("video", 0) >= 5)
    tcp = tcp_of(tcp_plane)
    offer = viewer.pc.remoteDescription.sdp
    ours, theirs = attribute(offer, "ice-ufrag"), attribute(viewer.pc.localDescription.sdp,
                                                           "ice-ufrag")
    client = await Client.connect(tcp.port)
    loop = asyncio.get_running_loop()
    await client.send(frame(binding_request(f"{ours}:{theirs}", attribute(offer, "ice-pwd"),
                                            controlling=False)))
    assert stun.parse_message(await client.message()).message_class == stun.Class.RESPONSE
    answered = loop.time()
    triggered = stun.parse_message(await client.message())
    assert triggered.message_class == stun.Class.REQUEST
    assert loop.time() - answered >= tcp.limits.udp_first_s * 0.9  # held, then sent
    pair = tcp_plane.peer(viewer.peer_id).dtls.transport._connection._nominated[1]
    assert pair.local_candidate.transport == "udp"
    client.close()
    await still_playing(viewer)
    await viewer.close()
    await publisher.close()


HOSTILE = [
    # (what the first bytes are, what they are counted as)
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "tcp_frame_too_large"),  # 'GE' = 18245 bytes
    (frame(b"\x16\xfe\xfd" + bytes(60)), "tcp_not_stun"),  # a DTLS record first
    (frame(b"\x80\x60" + bytes(100)), "tcp_not_stun"),  # RTP first
    (frame(b"\x00\x01\x00\x00garbage-not-stun"), "tcp_not_stun"),
    (frame(binding_request("nobody12:x", "password-of-nobody-at-all")), "tcp_unknown_username"),
    (b"\xff\xff" + bytes(10), "tcp_frame_too_large"),  # 65535 announced before validation
]


# named ids: the STUN request has a random transaction id, and xdist's workers must collect
# the same test names
@pytest.mark.parametrize(("first", "reason"), HOSTILE,
                         ids=["http", "dtls", "rtp", "junk", "unknown-ufrag", "huge-frame"])
async def test_a_bad_first_message_closes_the_connection(
    tcp_plane: MediaPlane, first: bytes, reason: str
) -> None:
    publisher, viewer = await streaming_pair(tcp_plane)
    tcp = tcp_of(tcp_plane)
    before = tcp_plane.mux.dropped[reason]  # type: ignore[union-attr]
    client = await Client.connect(tcp.port)
    await client.send(first)
    assert await client.closed_by_node(within=3)
    assert tcp_plane.mux.dropped[reason] == before + 1  # type: ignore[union-attr]
    await until(lambda: tcp.links == 0)
    await still_playing(viewer)
    await viewer.close()
    await publisher.close()


async def test_silent_and_trickling_connections_are_closed_in_time(
    tcp_plane: MediaPlane,
) -> None:
    """A slow-loris holds a descriptor for ``validate_s``, not forever; a connection that
    sends a wrongly signed check (answered 401) is no better."""
    publisher, viewer = await streaming_pair(tcp_plane)
    tcp = tcp_of(tcp_plane)
    tcp.limits = TcpLimits(validate_s=1.0)
    silent, trickling, refused = [await Client.connect(tcp.port) for _ in range(3)]
    ufrag = attribute(publisher.answer_sdp, "ice-ufrag")
    await refused.send(frame(binding_request(f"{ufrag}:x", "not-the-password-at-all")))
    error = stun.parse_message(await refused.message())
    assert error.attributes["ERROR-CODE"][0] == 401  # aioice answers; it validates nothing
    await refused.send(frame(b"\x80\x60" + bytes(100)))  # RTP before validation: dropped
    await trickling.send(b"\x00")
    await until(lambda: tcp.pending == 3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for client in (silent, trickling, refused):
        assert await client.closed_by_node(within=3)
    assert loop.time() - started < 4  # validate_s (1 s) after accept, not forever
    assert tcp_plane.mux.dropped["tcp_timeout"] == 2  # type: ignore[union-attr]
    assert tcp_plane.mux.dropped["tcp_unused"] == 1  # type: ignore[union-attr]
    assert tcp_plane.mux.dropped["unknown_address"] >= 1  # type: ignore[union-attr]
    assert tcp.links == 0 and tcp.pending == 0
    await still_playing(viewer)
    await viewer.close()
    await publisher.close()


@pytest.mark.parametrize("limits", [TcpLimits(max_pending=3), TcpLimits(max_pending_per_ip=3)],
                         ids=["node", "per-address"])
async def test_unvalidated_connections_are_capped(tcp_plane: MediaPlane,
                                                  limits: TcpLimits) -> None:
    tcp = tcp_of(tcp_plane)
    tcp.limits = limits
    held = [await Client.connect(tcp.port) for _ in range(3)]
    await until(lambda: tcp.pending == 3)
    extra = await Client.connect(tcp.port)
    assert await extra.closed_by_node(within=3)
    assert tcp_plane.mux.dropped["tcp_pending_full"] == 1  # type: ignore[union-attr]
    assert tcp.pending == 3
    for client in held:
        client.close()
    await until(lambda: tcp.links == 0 and tcp.pending == 0)
    again = await Client.connect(tcp.port)  # the slots are free again
    await until(lambda: tcp.pending == 1)
    again.close()


async def test_an_agent_holds_a_bounded_number_of_connections(tcp_plane: MediaPlane) -> None:
    publisher, viewer = await streaming_pair(tcp_plane)
    tcp = tcp_of(tcp_plane)
    tcp.limits = TcpLimits(max_links_per_agent=1)
    first, second = await Client.connect(tcp.port), await Client.connect(tcp.port)
    await first.send(frame(check_for(publisher)))
    await first.message()
    await second.send(frame(check_for(publisher)))
    assert await second.closed_by_node(within=3)
    assert tcp_plane.mux.dropped["tcp_too_many"] == 1  # type: ignore[union-attr]
    await tcp_plane.close(publisher.peer_id)
    assert await first.closed_by_node(within=5)
    await until(lambda: tcp.links == 0)
    await tcp_plane.close(viewer.peer_id)
    await until(lambda: len(tcp_plane.mux.table) == 0)  # type: ignore[union-attr]
    assert not tcp._by_owner and not tcp._protocols  # nothing of a gone agent is held
    await viewer.close()
    await publisher.close()


async def test_a_closed_peer_closes_its_connection(tcp_plane: MediaPlane) -> None:
    publisher, viewer = await streaming_pair(tcp_plane)
    tcp = tcp_of(tcp_plane)
    client = await Client.connect(tcp.port)
    await client.send(frame(check_for(publisher)))
    await client.message()
    await until(lambda: tcp.links == 1 and tcp.pending == 0)
    await tcp_plane.close(publisher.peer_id)
    assert await client.closed_by_node(within=5)
    await until(lambda: tcp.links == 0)
    await viewer.close()
    await publisher.close()


async def test_the_tcp_port_is_freed_with_the_plane_and_a_taken_one_is_refused() -> None:
    from streaming.errors import TcpPortUnavailable

    port = free_media_port()
    plane = MediaPlane(MediaLimits(udp_port=port, tcp_port=port, allow_private_candidates=True))
    with pytest.raises(TcpPortUnavailable, match=f"cannot bind TCP port {port}"):
        MediaPlane(MediaLimits(udp_port=free_media_port(), tcp_port=port))
    await plane.aclose()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind((client_host(), port))


def test_tcp_port_needs_udp_port() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="tcp_port needs udp_port"):
        MediaLimits(tcp_port=3478)
    with pytest.raises(ValidationError, match="udp_candidates = false needs tcp_port"):
        MediaLimits(udp_port=3478, udp_candidates=False)


async def test_with_udp_candidates_off_the_answer_offers_tcp_alone() -> None:
    """The test-only mode the browser tests use to prove ICE-TCP carries a session: no UDP
    candidate in the answer, and none in the agent (it cannot check a client's UDP ones)."""
    port = free_media_port()
    plane = MediaPlane(MediaLimits(udp_port=port, tcp_port=port, udp_candidates=False,
                                   allow_private_candidates=True))
    try:
        publisher = Publisher()
        answer = await plane.publish("hall", "alice", await publisher.offer())
        candidates = [line for line in answer.sdp.splitlines() if line.startswith("a=candidate:")]
        assert candidates and all(line.split()[2] == "tcp" for line in candidates), candidates
        connection = plane.peer(answer.peer_id).dtls.transport._connection
        assert {c.transport for c in connection.local_candidates} == {"tcp"}
        await plane.close(answer.peer_id)
        await publisher.close()
    finally:
        await plane.aclose()


def success_for(request: stun.Message, mapped: tuple[str, int], password: str) -> bytes:
    """The answer a client gives the node's check: signed with the client's own password."""
    response = stun.Message(message_method=stun.Method.BINDING,
                            message_class=stun.Class.RESPONSE,
                            transaction_id=request.transaction_id)
    response.attributes["XOR-MAPPED-ADDRESS"] = mapped
    response.add_message_integrity(password.encode())
    response.add_fingerprint()
    return bytes(response)


class TcpAgent:
    """A client's ICE agent on one raw ICE-TCP connection, the controlling side (a browser
    that published): it sends checks signed as the publisher's browser would, and answers
    every check the node sends on the connection (its triggered checks, then consent)."""

    def __init__(self, client: Client, answer_sdp: str, offer_sdp: str) -> None:
        self.client = client
        self.username = f"{attribute(answer_sdp, 'ice-ufrag')}:{attribute(offer_sdp, 'ice-ufrag')}"
        self.node_password = attribute(answer_sdp, "ice-pwd")
        self.password = attribute(offer_sdp, "ice-pwd")
        self.answered = 0  # the node's checks answered on this connection
        self._task = asyncio.get_running_loop().create_task(self._answer())

    @classmethod
    async def connect(cls, port: int, answer_sdp: str, offer_sdp: str) -> TcpAgent:
        return cls(await Client.connect(port), answer_sdp, offer_sdp)

    async def check(self, nominate: bool) -> None:
        request = stun.Message(message_method=stun.Method.BINDING,
                               message_class=stun.Class.REQUEST)
        request.attributes["USERNAME"] = self.username
        request.attributes["PRIORITY"] = 1_845_501_695
        request.attributes["ICE-CONTROLLING"] = 7
        if nominate:
            request.attributes["USE-CANDIDATE"] = None
        request.add_message_integrity(self.node_password.encode())
        request.add_fingerprint()
        await self.client.send(frame(bytes(request)))

    async def _answer(self) -> None:
        node = self.client.writer.get_extra_info("peername")[:2]
        while True:
            try:
                data = await self.client.message(within=60)
            except (ConnectionError, TimeoutError, OSError):
                return
            if data[0] > 3:
                continue  # DTLS from the node: this client has none
            message = stun.parse_message(data)
            if message.message_class == stun.Class.REQUEST:
                self.answered += 1
                await self.client.send(frame(success_for(message, node, self.password)))

    async def close(self, reset: bool = False) -> None:
        """Close the connection: FIN, or RST (SO_LINGER 0: a crashed client, a dead NAT)."""
        if reset:
            sock = self.client.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.client.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def tcp_only_plane() -> MediaPlane:
    """No UDP candidate in the node's answers: ICE-TCP is the only way in."""
    port = free_media_port()
    # consent checks every 0.5 s (the timeout stays 30 s): a test sees several answered
    return MediaPlane(MediaLimits(udp_port=port, tcp_port=port, udp_candidates=False,
                                  allow_private_candidates=True, allow_loopback_candidates=True,
                                  consent_interval_s=0.5))


def pairs(plane: MediaPlane, peer_id: str) -> tuple[Any, list[Any]]:
    """The node's agent's nominated pair, and its valid (succeeded) pairs."""
    connection = plane.peer(peer_id).dtls.transport._connection
    valid = [pair for pair in connection._check_list if pair.state.name == "SUCCEEDED"]
    return connection._nominated.get(1), valid


def valid_over(plane: MediaPlane, peer_id: str, agent: TcpAgent, nominated: bool) -> bool:
    """Whether the node holds a valid pair over ``agent``'s connection (the nominated one)."""
    pair, valid = pairs(plane, peer_id)
    port = agent.client.address[1]
    if nominated:
        return pair is not None and pair.remote_addr[1] == port
    return any(p.remote_addr[1] == port for p in valid)


async def tcp_publish(plane: MediaPlane) -> tuple[Publisher, str, str]:
    """A publisher's offer answered on a TCP-only plane: (client, peer id, answer SDP)."""
    publisher = Publisher()
    # its UDP candidates and their end: the node could pair none with its TCP ones and would
    # call ICE failed at once; left out, it waits for trickled ones (a browser trickles)
    offer = "\r\n".join(line for line in (await publisher.offer()).splitlines()
                         if not line.startswith(("a=candidate:", "a=end-of-candidates"))) + "\r\n"
    answer = await plane.publish("hall", "alice", offer)
    return publisher, answer.peer_id, answer.sdp


async def joined(plane: MediaPlane, peer_id: str, answer: str, offer: str,
                 nominate: bool) -> TcpAgent:
    """A new connection whose pair the node validated (and nominated, if asked)."""
    agent = await TcpAgent.connect(tcp_of(plane).port, answer, offer)
    await agent.check(nominate)
    await until(lambda: valid_over(plane, peer_id, agent, nominate), within=10)
    return agent


async def nominated_and_spare(plane: MediaPlane) -> tuple[Publisher, str, TcpAgent, TcpAgent]:
    """A TCP publisher (client, peer id) and two connections of its peer, both validated:
    the first nominated, the second not."""
    publisher, peer_id, answer = await tcp_publish(plane)
    offer = publisher.pc.localDescription.sdp
    first = await joined(plane, peer_id, answer, offer, nominate=True)
    second = await joined(plane, peer_id, answer, offer, nominate=False)
    return publisher, peer_id, first, second


async def ended(plane: MediaPlane, peer_id: str) -> None:
    """The peer ends within 10 s: far below consent's 30 s timeout, so not by the timeout."""
    await until(lambda: peer_id not in plane.peers, within=10)


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_closing_the_selected_tcp_connection_ends_the_peer_at_once(reset: bool) -> None:
    """RFC 7675 §5.1: consent is lost when the transport is gone. The client's only
    connection closes (tab closed: FIN; network gone or a crash: RST): the node's peer ends
    now, through the consent-loss path, not ~30 s later when its checks time out."""
    plane = await tcp_only_plane()
    try:
        publisher, peer_id, answer = await tcp_publish(plane)
        offer = publisher.pc.localDescription.sdp
        peer = plane.peer(peer_id)
        agent = await joined(plane, peer_id, answer, offer, nominate=True)
        assert peer.consent is not None and not peer.consent.expired
        assert peer.consent.timeout >= 30  # what the peer would otherwise wait
        await agent.close(reset=reset)
        await ended(plane, peer_id)
        assert peer.consent.expired and peer.consent.transport_gone
        assert "consent_expired" in peer.states  # the same end as a consent failure
        await until(lambda: peer.closed.is_set())
        assert plane.stats().publishers == 0
        await until(lambda: tcp_of(plane).links == 0)
        await publisher.close()
    finally:
        await plane.aclose()


async def test_closing_a_connection_ice_does_not_use_changes_nothing() -> None:
    """A validated connection that is not the nominated pair's, and one never validated,
    close: the peer goes on (consent keeps being answered on the nominated connection).
    Closing the nominated one then ends it (the check above is not blind)."""
    plane = await tcp_only_plane()
    try:
        publisher, peer_id, selected, spare = await nominated_and_spare(plane)
        peer = plane.peer(peer_id)
        unvalidated = await Client.connect(tcp_of(plane).port)
        await until(lambda: tcp_of(plane).links == 3)
        unvalidated.close()
        await spare.close()
        await until(lambda: tcp_of(plane).links == 1)
        answered = selected.answered
        await until(lambda: selected.answered > answered + 1, within=15)  # consent: 2 checks
        assert plane.peers.get(peer_id) is peer and not peer.consent.expired  # type: ignore[union-attr]
        await selected.close()
        await ended(plane, peer_id)
        await publisher.close()
    finally:
        await plane.aclose()


async def test_with_another_valid_pair_left_ice_goes_on_there() -> None:
    """The nominated connection closes while another validated one is open: the client may
    nominate that one (RFC 8445 §7.3.1.5), so the peer lives; once it has and that one
    closes too, the peer ends."""
    plane = await tcp_only_plane()
    try:
        publisher, peer_id, first, second = await nominated_and_spare(plane)
        peer = plane.peer(peer_id)
        await first.close(reset=True)
        await until(lambda: tcp_of(plane).links == 1)
        await second.check(nominate=True)  # the client moves to the connection it has left
        await until(lambda: valid_over(plane, peer_id, second, nominated=True), within=10)
        answered = second.answered
        await until(lambda: second.answered > answered, within=15)  # consent, on the new pair
        assert plane.peers.get(peer_id) is peer and not peer.consent.expired  # type: ignore[union-attr]
        await second.close()
        await ended(plane, peer_id)
        assert peer.consent is not None and peer.consent.transport_gone
        await publisher.close()
    finally:
        await plane.aclose()
