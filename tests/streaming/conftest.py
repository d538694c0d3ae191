"""A MediaPlane per test, closed after it (every peer, every task)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config import MediaLimits
from streaming import MediaPlane
from tests.fixtures.ports import free_media_port, free_udp_port


@pytest.fixture
async def plane() -> AsyncIterator[MediaPlane]:
    # the peers run on this machine: their host candidates are its own (private) interfaces
    media = MediaPlane(MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True))
    yield media
    await media.aclose()


@pytest.fixture
async def mux_plane() -> AsyncIterator[MediaPlane]:
    """A plane whose peers all use one UDP port (issue 19)."""
    media = MediaPlane(MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True,
                                   udp_port=free_udp_port()))
    yield media
    await media.aclose()


@pytest.fixture(params=["per_peer", "port", "port+tcp"])
async def either_plane(request: pytest.FixtureRequest) -> AsyncIterator[MediaPlane]:
    """Every media mode: a socket per peer, every peer on one UDP port, and that with ICE-TCP
    candidates beside (aiortc peers use UDP: the TCP ones must change nothing, leak nothing)."""
    port = free_media_port() if request.param != "per_peer" else 0
    tcp = port if request.param == "port+tcp" else 0
    media = MediaPlane(MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True,
                                   udp_port=port, tcp_port=tcp))
    yield media
    await media.aclose()
