"""A MediaPlane per test, closed after it (every peer, every task)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from config import MediaLimits
from streaming import MediaPlane


@pytest.fixture
async def plane() -> AsyncIterator[MediaPlane]:
    # the peers run on this machine: their host candidates are its own (private) interfaces
    media = MediaPlane(MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True))
    yield media
    await media.aclose()


def free_udp_port() -> int:
    """A UDP port free on IPv4 and IPv6 now (the kernel picks it; the plane binds it next)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as v4:
            v4.bind(("0.0.0.0", 0))
            port = int(v4.getsockname()[1])
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as v6:
                v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    v6.bind(("::", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no UDP port free on both IPv4 and IPv6")


@pytest.fixture
async def mux_plane() -> AsyncIterator[MediaPlane]:
    """A plane whose peers all use one UDP port (issue 19)."""
    media = MediaPlane(MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True,
                                   udp_port=free_udp_port()))
    yield media
    await media.aclose()


@pytest.fixture(params=["per_peer", "port"])
async def either_plane(request: pytest.FixtureRequest) -> AsyncIterator[MediaPlane]:
    """Both media modes: a socket per peer, and every peer on one UDP port."""
    port = free_udp_port() if request.param == "port" else 0
    media = MediaPlane(MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True,
                                   udp_port=port))
    yield media
    await media.aclose()
