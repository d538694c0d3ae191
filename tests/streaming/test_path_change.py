"""A viewer whose network changes: its ICE agent (controlling) nominates a new candidate pair
from a new socket after media flows (RFC 8445 §7.3.1.5, as a browser does on a network change),
and the fan-out follows it. Real aioice on both ends: the viewer's check from the new socket,
the server's triggered check back, then the server's nominated pair changes."""

from __future__ import annotations

import asyncio
from typing import Any

import aioice
from aioice.ice import CandidatePair, StunProtocol

from streaming import MediaPlane
from tests.streaming.clients import contiguous, publish, until, watch


async def _new_path(connection: Any) -> tuple[StunProtocol, list[int]]:
    """A new host socket for the viewer's ICE connection; counts the media it receives."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: StunProtocol(connection), local_addr=("127.0.0.1", 0)
    )
    port = protocol.transport.get_extra_info("sockname")[1]
    protocol.local_candidate = aioice.Candidate(
        foundation="moved", component=1, transport="udp", priority=2_000_000_000,
        host="127.0.0.1", port=port, type="host",
    )
    connection._protocols.append(protocol)
    media = [0]
    original = protocol.datagram_received

    def received(data: bytes, addr: tuple[Any, ...]) -> None:
        if data and 128 <= data[0] < 192:  # RTP/RTCP (RFC 7983 §7), not STUN
            media[0] += 1
        original(data, addr)

    protocol.datagram_received = received  # type: ignore[method-assign]
    return protocol, media


async def test_media_follows_a_viewer_onto_its_newly_nominated_pair(
        either_plane: MediaPlane) -> None:
    """In one-port mode (issue 19) the new address is bound to the viewer's agent by its
    validated check, and only then: the old one stays its too until it ages out."""
    plane = either_plane
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall", "mobile")
    await until(lambda: viewer.count("video") >= 30)
    leg: Any = plane.peer(viewer.peer_id)
    server_ice = leg.dtls.transport._connection
    first = server_ice._nominated[1]
    mine = viewer.pc.getTransceivers()[0].receiver.transport.transport._connection
    server_candidate = mine._nominated[1].remote_candidate

    protocol, media = await _new_path(mine)
    await mine.check_start(CandidatePair(protocol, server_candidate))  # USE-CANDIDATE from it
    await until(lambda: server_ice._nominated[1] is not first, 10)
    assert server_ice._nominated[1].remote_addr[1] == protocol.local_candidate.port

    before = viewer.count("video")
    await until(lambda: leg.path_changes == 1 and media[0] >= 30, 15)
    await until(lambda: viewer.count("video") >= before + 60, 15)  # and the player still plays
    assert contiguous(viewer.received["audio"].sequences[-40:])
    await viewer.close()
    await publisher.close()
