"""Issue 19, one UDP port with many peers at once: a publisher and a crowd of viewers that
connect concurrently on the node's one port all get the media, each packet once.

Real aiortc peers on this host. With ``announce_ip`` 127.0.0.1 (as bench/fanout.py does) the
port is one socket bound on that address; without, one socket per address of this host. Before
the fix the announced address was served by a wildcard socket, whose answers to a client's
check left from another source address: the client failed that pair (RFC 8445 §7.2.5.2.1)
and connected, if at all, through a peer-reflexive address the node never offered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from config import MediaLimits
from streaming import MediaPlane
from streaming.udp_mux import plan_addresses
from tests.fixtures.ports import free_udp_port
from tests.streaming.clients import contiguous, publish, until, watch

VIEWERS = 14


@pytest.fixture(params=["announced", "per_address"])
async def crowd_plane(request: pytest.FixtureRequest) -> AsyncIterator[MediaPlane]:
    announce = "127.0.0.1" if request.param == "announced" else ""
    media = MediaPlane(MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True,
                                   udp_port=free_udp_port(), announce_ip=announce))
    yield media
    await media.aclose()


def offered(sdp: str) -> set[tuple[str, int]]:
    return {(line.split()[4], int(line.split()[5])) for line in sdp.splitlines()
            if line.startswith("a=candidate:")}


def checks_answered_from_where_asked(pc: object) -> bool:
    """The client's ICE: every check it sent to a candidate the node offered was answered
    from that address (aioice fails a pair otherwise, RFC 8445 §7.2.5.2.1), and it nominated
    such a pair, not a peer-reflexive address the node never offered."""
    dtls = pc.getTransceivers()[0].receiver.transport  # type: ignore[attr-defined]
    connection = dtls.transport._connection
    ours = offered(pc.remoteDescription.sdp)  # type: ignore[attr-defined]
    to_offered = [p for p in connection._check_list if p.remote_addr in ours]
    nominated = connection._nominated.get(1)
    failed = [p for p in to_offered if p.state.name == "FAILED"]
    return not failed and nominated is not None and nominated.remote_addr in ours


async def sent_packets(pc: object) -> int:
    """RTP packets the publisher's aiortc senders sent (its own outbound statistics)."""
    stats = await pc.getStats()  # type: ignore[attr-defined]
    return sum(s.packetsSent for s in stats.values() if s.type == "outbound-rtp")


async def test_a_crowd_connecting_at_once_gets_every_packet_once(
        crowd_plane: MediaPlane) -> None:
    plane = crowd_plane
    publisher = await publish(plane, "hall", codec="vp8")
    viewers = await asyncio.gather(*(watch(plane, "hall", f"v{i}") for i in range(VIEWERS)))
    await until(lambda: all(v.frames.get("video", 0) >= 45 for v in viewers), within=40)
    for peer in (publisher, *viewers):
        assert checks_answered_from_where_asked(peer.pc)
    for viewer in viewers:
        assert contiguous(viewer.received["video"].sequences)
        assert contiguous(viewer.received["audio"].sequences)
    # each packet reached the node once: no duplicate delivery, no retransmission storm
    sources = plane.live_sources("hall").values()
    received = sum(s.packets for s in sources)
    sent = await sent_packets(publisher.pc)
    assert sent - 10 <= received <= sent
    assert plane.mux is not None and not plane.mux.dropped, plane.mux.dropped
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


def test_an_announced_address_of_this_host_is_bound_itself() -> None:
    """Replies must leave from the address the client sent to: a local ``announce_ip`` gets
    its own socket; a NAT's address (not this host's) the wildcard socket of its family."""
    assert plan_addresses("127.0.0.1") == (["127.0.0.1"], {"127.0.0.1": "127.0.0.1"})
    assert plan_addresses("203.0.113.7") == (["0.0.0.0"], {"203.0.113.7": "0.0.0.0"})
    assert plan_addresses("2001:db8::7") == (["::"], {"2001:db8::7": "::"})
