"""ICE-TCP on the node's one TCP port (streaming/tcp_mux.py, issue 19 §1): real sockets, a real
plane with aiortc peers on UDP beside, and hostile TCP clients that must change nothing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

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
