"""One UDP port per node (issue 19 §1, §3): real aiortc peers on this host's addresses, one
plane whose peers all share the port; foreign datagrams come from a raw socket."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import AsyncIterator

import pytest
from aioice import stun

from config import MediaLimits
from streaming import MediaPlane, aiortc_hooks
from streaming.peer import Peer
from streaming.udp_mux import MuxPort, MuxTransport, UdpMux
from tests.fixtures.ports import free_udp_port
from tests.streaming.clients import Viewer, publish, until, watch


def host_ports(sdp: str) -> set[int]:
    """The ports of the host candidates of an SDP."""
    ports = set()
    for line in sdp.splitlines():
        if line.startswith("a=candidate:") and " typ host" in line:
            ports.add(int(line.split()[5]))
    return ports


def mux_of(plane: MediaPlane) -> UdpMux:
    assert plane.mux is not None
    return plane.mux


def port_of(plane: MediaPlane, peer_id: str) -> MuxPort:
    """The mux entry of a plane peer's (bundled) ICE agent."""
    peer = plane.peer(peer_id)
    assert isinstance(peer, Peer)
    pair = aiortc_hooks.nominated_pair(peer.dtls)
    assert pair is not None
    transport = pair.protocol.transport
    assert isinstance(transport, MuxTransport)
    return transport._port


def sock_name(mux: UdpMux, remote: tuple[str, int]) -> tuple[str, int]:
    """The bound address of the mux socket that serves a client on this host."""
    return (remote[0], mux.port)


def client_address(viewer: Viewer) -> tuple[str, int]:
    """The address a client's nominated pair sends from."""
    pair = aiortc_hooks.nominated_pair(viewer.pc.getTransceivers()[0].receiver.transport)
    assert pair is not None
    return pair.local_addr


async def test_every_answer_is_on_the_one_port_and_media_flows(mux_plane: MediaPlane) -> None:
    mux = mux_of(mux_plane)
    publisher = await publish(mux_plane, "hall", codec="vp8")
    viewers = [await watch(mux_plane, "hall", f"v{i}") for i in range(2)]
    assert host_ports(publisher.answer_sdp) == {mux.port}
    for viewer in viewers:
        assert host_ports(viewer.pc.remoteDescription.sdp) == {mux.port}
    await until(lambda: all(v.frames.get("video", 0) >= 20 for v in viewers))
    for viewer in viewers:  # the fast path sends on (a duplicate of) the shared socket
        leg = mux_plane.peer(viewer.peer_id)
        sock, addr = aiortc_hooks.nominated_socket(leg.dtls)
        try:
            assert sock.getsockname()[1] == mux.port
            assert addr == client_address(viewer)
        finally:
            sock.close()
        shared = aiortc_hooks.shared_socket(leg.dtls)
        assert shared is not None and shared.getsockname()[:2] == sock_name(mux, addr)
        assert shared in mux.sockets()  # the node's own socket on that address, no other
    assert len({port_of(mux_plane, v.peer_id).ufrag for v in viewers}) == 2
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


@pytest.fixture
async def v4_plane() -> AsyncIterator[MediaPlane]:
    """One port, announced on this host's IPv4 address only: every client comes from it."""
    plane = MediaPlane(MediaLimits(udp_port=free_udp_port(), announce_ip=client_host(),
                                   allow_private_candidates=True))
    yield plane
    await plane.aclose()


async def test_two_peers_behind_one_address_are_kept_apart(v4_plane: MediaPlane) -> None:
    """Two rooms, one viewer each, both from this host's one IP: each viewer's datagrams reach
    only its own agent, and each gets only its own room's media (VP8 here, H264 there)."""
    mux_plane = v4_plane
    mux = mux_of(mux_plane)
    publishers = [await publish(mux_plane, "a", codec="vp8"),
                  await publish(mux_plane, "b", "bob", codec="h264")]
    first, second = await watch(mux_plane, "a", "v1"), await watch(mux_plane, "b", "v2")
    await until(lambda: all(v.frames.get("video", 0) >= 20 for v in (first, second)))
    one, two = client_address(first), client_address(second)
    assert one[0] == two[0] and one[1] != two[1]
    assert mux.table.owner_of(one) is port_of(mux_plane, first.peer_id)
    assert mux.table.owner_of(two) is port_of(mux_plane, second.peer_id)
    assert first.received["video"].codec.lower() == "video/vp8"
    assert second.received["video"].codec.lower() == "video/h264"
    for viewer, room in ((first, "a"), (second, "b")):  # nothing beyond its own room's
        assert len(viewer.received["video"].packets) <= mux_plane.live_sources(room)[
            "video"].packets
    for client in (first, second, *publishers):
        await client.close()


def bogus_binding_request(ufrag: str) -> bytes:
    """A binding request for a live agent's ufrag, signed with a password it does not have."""
    request = stun.Message(message_method=stun.Method.BINDING,
                           message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = f"{ufrag}:intruder"
    request.attributes["PRIORITY"] = 1853766911
    request.attributes["ICE-CONTROLLING"] = 1
    request.add_message_integrity(b"not-the-password-at-all")
    request.add_fingerprint()
    return bytes(request)


DTLS_CLIENT_HELLO = bytes([22, 0xFE, 0xFD]) + bytes(8) + struct.pack("!H", 60) + os.urandom(60)
RTP = bytes([0x80, 96, 0, 1]) + struct.pack("!II", 1, 0x1234) + os.urandom(100)
RTCP_BYE = bytes([0x81, 203, 0, 1]) + struct.pack("!I", 0x1234)


async def test_datagrams_from_an_unknown_address_change_nothing(mux_plane: MediaPlane) -> None:
    mux = mux_of(mux_plane)
    publisher = await publish(mux_plane, "hall", codec="vp8")
    viewer = await watch(mux_plane, "hall")
    await until(lambda: viewer.frames.get("video", 0) >= 10)
    port = port_of(mux_plane, viewer.peer_id)
    bound = mux.table.addresses(port)
    host = client_address(viewer)[0]
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                       socket.SOCK_DGRAM) as raw:
        raw.bind((host, 0))
        raw.setblocking(False)
        before = dict(mux.dropped)
        for data in (bogus_binding_request(port.ufrag), DTLS_CLIENT_HELLO, RTP, RTCP_BYE,
                     b"\x50hello"):
            raw.sendto(data, (host, mux.port))
        # aioice answers the unauthenticated check 401 (RFC 8489 §9.1.3) and binds nothing
        reply = await asyncio.wait_for(loop.sock_recv(raw, 2048), 10)
        assert stun.parse_message(reply).attributes["ERROR-CODE"][0] == 401
        await until(lambda: mux.dropped["unknown_address"] - before.get("unknown_address", 0) >= 3)
        assert mux.dropped["not_webrtc"] - before.get("not_webrtc", 0) == 1
        assert mux.table.owner_of(raw.getsockname()[:2]) is None
    assert mux.table.addresses(port) == bound
    frames = viewer.frames["video"]
    await until(lambda: viewer.frames["video"] >= frames + 20)  # the session is unaffected
    assert mux_plane.peer(viewer.peer_id).pc.connectionState == "connected"
    await viewer.close()
    await publisher.close()


async def test_a_closed_peer_leaves_no_mux_entry(mux_plane: MediaPlane) -> None:
    mux = mux_of(mux_plane)
    publisher = await publish(mux_plane, "hall", codec="vp8")
    viewer = await watch(mux_plane, "hall")
    await until(lambda: viewer.frames.get("video", 0) >= 5)
    port = port_of(mux_plane, viewer.peer_id)
    address = client_address(viewer)
    assert len(mux.table) == 2
    await mux_plane.close(viewer.peer_id)
    await viewer.close()
    await until(lambda: len(mux.table) == 1)
    assert mux.table.owner_of(address) is None and not mux.table.addresses(port)
    assert not mux.table.has_ufrag(port.ufrag)
    await mux_plane.close(publisher.peer_id)
    await publisher.close()
    await until(lambda: len(mux.table) == 0 and mux.table.transactions() == 0)


async def test_the_mux_closes_with_the_plane() -> None:
    port = free_udp_port()
    plane = MediaPlane(MediaLimits(udp_port=port, allow_private_candidates=True))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        try:
            other.bind(("0.0.0.0", port))
        except OSError:
            pass
        else:
            raise AssertionError("the plane's port was free while it ran")
    await plane.aclose()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("0.0.0.0", port))  # the port is free again


def host_candidates(sdp: str) -> set[tuple[str, int]]:
    return {(line.split()[4], int(line.split()[5])) for line in sdp.splitlines()
            if line.startswith("a=candidate:") and " typ host" in line}


async def test_announce_ip_is_the_one_host_candidate() -> None:
    """NAT 1:1 (a cloud VM): the answer names ``announce_ip`` and the port, nothing else.
    Here the announced address is one of this host's own, so media still flows."""
    host = client_host()
    plane = MediaPlane(MediaLimits(udp_port=free_udp_port(), announce_ip=host,
                                   allow_private_candidates=True))
    try:
        publisher = await publish(plane, "hall", codec="vp8")
        viewer = await watch(plane, "hall")
        assert host_candidates(publisher.answer_sdp) == {(host, mux_of(plane).port)}
        assert host_candidates(viewer.pc.remoteDescription.sdp) == {(host, mux_of(plane).port)}
        await until(lambda: viewer.frames.get("video", 0) >= 10)
        await viewer.close()
        await publisher.close()
    finally:
        await plane.aclose()


def client_host() -> str:
    """An IPv4 address of this host that aiortc gathers (not loopback)."""
    from aioice.ice import get_host_addresses

    return get_host_addresses(use_ipv4=True, use_ipv6=False)[0]


async def test_a_server_offer_s_bundled_away_agent_leaves_the_mux(mux_plane: MediaPlane) -> None:
    """The browser protocol: the server offers audio and video (aiortc gathers one ICE agent
    per kind, each registered with its own ufrag); the BUNDLE answer keeps the first, and the
    other agent's entry goes when aiortc stops it."""
    from tests.streaming.clients import watch_offered

    mux = mux_of(mux_plane)
    publisher = await publish(mux_plane, "hall", codec="vp8")
    viewer = await watch_offered(mux_plane, "hall")
    offer = viewer.pc.remoteDescription.sdp
    assert host_ports(offer) == {mux.port}
    ufrags = {line.split(":", 1)[1] for line in offer.splitlines()
              if line.startswith("a=ice-ufrag:")}
    assert len(ufrags) == 2  # one agent per kind, each unique on the node
    await until(lambda: viewer.frames.get("video", 0) >= 10 and viewer.count("audio") >= 10)
    await until(lambda: len(mux.table) == 2)  # the publisher's agent and the viewer's one
    await viewer.close()
    await publisher.close()


async def test_per_peer_mode_has_no_shared_socket(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall", codec="vp8")
    assert plane.mux is None
    assert aiortc_hooks.shared_socket(plane.peer(publisher.peer_id).dtls) is None
    await publisher.close()
