"""Issue 19 §2: one published packet's copies to viewers that share one UDP socket leave in one
batch (one ``sendmmsg``), and real aiortc viewers still decrypt and decode every packet.

Until the node's single port (issue 19 §1) is merged, the test gives every viewer a duplicate
of one shared dual-stack socket where the plane would take its nominated pair's
(``nominated_socket``, the seam the single-port mode replaces); aiortc, like aioice, takes
media from any address. The
batch's own counters (``Source.batch.calls``: backend calls) say how the copies left.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bench.fanout_servers import dual_stack_socket, duplicate, mapped
from config import ConfigError, MediaLimits, load
from streaming import MediaPlane, aiortc_hooks, send_backend
from tests.streaming.clients import contiguous, publish, until, watch

VIEWERS = 4


@pytest.fixture
def shared_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    """One dual-stack socket for every viewer (IPv4 ones by their v4-mapped address, as
    bench/fanout_servers.py does); yields the viewers' addresses."""
    shared = dual_stack_socket()
    original = aiortc_hooks.nominated_socket
    users: list[tuple[str, int]] = []

    def nominated(dtls: Any) -> tuple[socket.socket, tuple[str, int]]:
        sock, addr = original(dtls)
        sock.close()
        users.append(mapped(addr))
        return duplicate(shared), users[-1]

    monkeypatch.setattr(aiortc_hooks, "nominated_socket", nominated)
    yield users
    shared.close()


def limits(backend: str) -> MediaLimits:
    return MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True,
                       send_backend=backend)


@pytest.fixture(params=["auto", "sendto"])
async def plane(request: pytest.FixtureRequest) -> AsyncIterator[MediaPlane]:
    media = MediaPlane(limits(request.param))
    yield media
    await media.aclose()


async def test_one_packet_to_viewers_on_one_socket_is_one_batch(
    plane: MediaPlane, shared_port: list[tuple[str, int]]
) -> None:
    publisher = await publish(plane, "hall", codec="vp8")
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(VIEWERS)]
    await until(lambda: all(v.count("video") >= 30 for v in viewers))
    video = plane.live_sources("hall")["video"]
    batch = video.batch
    packets, calls, datagrams = video.packets, batch.calls, batch.datagrams
    await until(lambda: video.packets >= packets + 60)
    forwarded = video.packets - packets
    assert len(shared_port) == VIEWERS
    assert batch.calls - calls == forwarded  # one call per published packet...
    assert batch.datagrams - datagrams == VIEWERS * forwarded  # ...with every viewer's copy
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
