"""Issue 19 §2: on a node with one UDP port (``[media] udp_port``, streaming/udp_mux.py), one
published packet's copies to the viewers leave in one batch per shared socket (one ``sendmmsg``,
or the ``sendto`` fallback), and real aiortc viewers still decrypt and decode every packet.
The batch's own counters (``Source.batch``: backend calls and datagrams) say how copies left.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from config import ConfigError, MediaLimits, load
from streaming import MediaPlane, send_backend
from streaming.viewer import ViewerLeg
from tests.fixtures.ports import free_udp_port
from tests.streaming.clients import contiguous, publish, until, watch

VIEWERS = 4


def limits(backend: str, udp_port: int = 0) -> MediaLimits:
    return MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True,
                       send_backend=backend, udp_port=udp_port)


@pytest.fixture(params=["auto", "sendto"])
async def mux_plane(request: pytest.FixtureRequest) -> AsyncIterator[MediaPlane]:
    media = MediaPlane(limits(request.param, free_udp_port()))
    yield media
    await media.aclose()


@pytest.fixture(params=["auto", "sendto"])
async def plane(request: pytest.FixtureRequest) -> AsyncIterator[MediaPlane]:
    media = MediaPlane(limits(request.param))
    yield media
    await media.aclose()


def sockets_in_use(plane: MediaPlane) -> list[int]:
    """How many viewers send on each kernel socket (the node's one per address it was
    reached on: IPv4 and IPv6 may both be in use)."""
    users: dict[int, int] = {}
    for peer in plane.peers.values():
        if isinstance(peer, ViewerLeg) and peer._egress is not None:
            inode = os.fstat(peer._egress._sock.fileno()).st_ino
            users[inode] = users.get(inode, 0) + 1
    return list(users.values())


async def test_one_packet_to_viewers_on_one_port_is_one_batch(mux_plane: MediaPlane) -> None:
    plane = mux_plane
    publisher = await publish(plane, "hall", codec="vp8")
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(VIEWERS)]
    await until(lambda: all(v.count("video") >= 30 for v in viewers))
    video = plane.live_sources("hall")["video"]
    batch = video.batch
    packets, calls, datagrams = video.packets, batch.calls, batch.datagrams
    await until(lambda: video.packets >= packets + 60)
    forwarded = video.packets - packets
    # one call per published packet and shared socket, with every copy on it (a socket only
    # one viewer uses is not batched: its copy leaves at once)
    shared = [n for n in sockets_in_use(plane) if n >= 2]
    assert sum(sockets_in_use(plane)) == VIEWERS and shared
    assert batch.calls - calls == forwarded * len(shared)
    assert batch.datagrams - datagrams == forwarded * sum(shared)
    await until(lambda: all(v.frames.get("video", 0) >= 30 for v in viewers))
    for viewer in viewers:
        assert contiguous(viewer.received["video"].sequences)
        assert contiguous(viewer.received["audio"].sequences)
        assert viewer.count("audio") >= 25
    stats = plane.stats().totals
    assert stats.send_errors == 0 and stats.dropped_packets == 0
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


async def test_per_peer_ports_send_each_copy_at_once(plane: MediaPlane) -> None:
    """Without a shared socket nothing is batched: every copy leaves as it did before."""
    publisher = await publish(plane, "hall", codec="vp8")
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(2)]
    await until(lambda: all(v.count("video") >= 30 and v.frames.get("video", 0) >= 10
                            for v in viewers))
    assert plane.live_sources("hall")["video"].batch.calls == 0
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


def test_the_setting_picks_the_backend() -> None:
    secret = {"PAVILION_SECRET": "s" * 32}
    settings = load(env={**secret, "PAVILION_MEDIA__SEND_BACKEND": "sendto"})
    assert send_backend.choose(settings.media.send_backend).name == "sendto"
    assert load(env=secret).media.send_backend == "auto"
    with pytest.raises(ConfigError, match=r"media\.send_backend: Input should be 'auto' or"):
        load(env={**secret, "PAVILION_MEDIA__SEND_BACKEND": "writev"})
