"""A closed peer is freed at once, not at the next full garbage collection (issue 18 §5).

aiortc's objects point at each other (the DTLS transport's router holds the receivers, which
hold the transport; transports hold the peer connection's handlers; aioice's protocols hold their
connection), and the legs' hooks point back at the legs: before ``aiortc_hooks.release`` every
closed peer, publisher or viewer, waited for a full collection (~1,400 objects each), and each
video receiver carried aiortc's ~1,000-object bandwidth estimator that Pavilion never feeds.

With the collector off, real aiortc peers (a publisher, WHEP viewers, a viewer the server offers
to) go through the plane and close, by the plane or by the far end hanging up: weak references
to each server-side RTCPeerConnection, its DTLS and ICE transports, ICE connection, receivers and
senders are dead after a few loop turns, and a collection afterwards finds only a few objects
per closed peer.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from streaming import MediaPlane
from streaming.peer import Peer
from tests.streaming.clients import publish, until, watch, watch_offered

UNREACHABLE_PER_PEER = 25  # measured 10 (pyOpenSSL's verify helper); ~1,400 before


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def parts(peer: Peer) -> dict[str, weakref.ref[Any]]:
    """Weak references to a server-side peer's aiortc objects, by name."""
    pc = peer.pc
    dtls = peer.dtls
    found: dict[str, Any] = {"pc": pc, "dtls": dtls, "ice": dtls.transport}
    for transceiver in pc.getTransceivers():
        found[f"{transceiver.mid} receiver"] = transceiver.receiver
        found[f"{transceiver.mid} sender"] = transceiver.sender
    return {f"{peer.participant} {name}": weakref.ref(obj) for name, obj in found.items()}


def estimators(peer: Peer) -> list[object]:
    return [t.receiver._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
            for t in peer.pc.getTransceivers()]


async def turns(n: int = 10) -> None:
    for _ in range(n):
        await asyncio.sleep(0.01)


async def test_closed_peers_are_freed_without_a_collection(either_plane: MediaPlane,
                                                           collector_off: None) -> None:
    plane = either_plane  # both media modes: a socket per peer, and the one UDP port (issue 19)
    publisher = await publish(plane, "hall")
    viewers = [await watch(plane, "hall", f"whep-{i}") for i in range(2)]
    viewers.append(await watch_offered(plane, "hall"))
    await until(lambda: all(v.frames.get("video", 0) > 5 for v in viewers))
    peers = dict(plane.peers)
    assert len(peers) == 4
    # aiortc's receive-side estimator is gone from every receiver while the peers live
    assert all(e is None for peer in peers.values() for e in estimators(peer))
    refs = {k: r for peer in peers.values() for k, r in parts(peer).items()}
    publisher_id = next(i for i, p in peers.items() if p.participant == "alice")
    del peers
    await publisher.close()  # the far end hangs up: the plane closes its leg by itself
    await until(lambda: publisher_id not in plane.peers, 10)
    for peer_id in list(plane.peers):  # the plane closes the viewers' legs
        await plane.close(peer_id)
    await turns()
    alive = sorted(name for name, ref in refs.items() if ref() is not None)
    assert alive == [], f"still alive without a collection: {alive}"
    unreachable = gc.collect()
    print(f"unreachable after closing 4 peers: {unreachable}")
    assert unreachable <= 4 * UNREACHABLE_PER_PEER, unreachable
    for viewer in viewers:
        await viewer.close()
