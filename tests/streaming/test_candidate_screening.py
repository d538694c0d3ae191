"""Refused candidates never reach aioice, so no connectivity check is ever sent to them.

Real planes, real aiortc/aioice, real UDP sockets: a candidate in an offer or trickled later is
kept out of the ICE agent's remote candidates when the configuration refuses it, and a socket
behind a refused candidate receives nothing while the same candidate, allowed on a second plane
at the same time, gets STUN checks (the control that shows the test can fail).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from config import MediaLimits
from streaming import MediaPlane
from tests.streaming.clients import until
from tests.streaming.hostile_sdp import CHROMIUM, GSTREAMER

PUBLIC = "a=candidate:7 1 udp 2122194687 198.51.100.7 40000 typ host"
HOSTILE = (
    "a=candidate:8 1 udp 2122194687 ff02::1 40000 typ host",
    "a=candidate:9 1 udp 2122194687 255.255.255.255 40000 typ host",
    "a=candidate:10 1 udp 2122194687 0.0.0.0 40000 typ host",
    "a=candidate:11 1 udp 2122194687 198.51.100.8 0 typ host",
    "a=candidate:12 1 udp 2122194687 10.9.8.7 40000 typ host",
)


@pytest.fixture
async def planes() -> AsyncIterator[tuple[MediaPlane, MediaPlane]]:
    strict = MediaPlane(MediaLimits())
    loopback = MediaPlane(MediaLimits(allow_loopback_candidates=True))
    yield strict, loopback
    await strict.aclose()
    await loopback.aclose()


def with_candidates(offer: str, *candidates: str) -> str:
    """``offer`` without its own candidates, with ``candidates`` in its first section."""
    kept = [line for line in offer.split("\r\n") if not line.startswith("a=candidate:")]
    at = next(i for i, line in enumerate(kept) if line.startswith("m=")) + 1
    return "\r\n".join(kept[:at] + list(candidates) + kept[at:])


def remote_hosts(plane: MediaPlane, peer_id: str) -> set[str]:
    transceiver = plane.peer(peer_id).pc.getTransceivers()[0]
    transport = transceiver.receiver.transport
    assert transport is not None
    return {c.ip for c in transport.transport.getRemoteCandidates()}


async def test_refused_candidates_in_an_offer_and_trickled_never_reach_aioice(
    planes: tuple[MediaPlane, MediaPlane],
) -> None:
    strict, _ = planes
    answer = await strict.publish("expo", "obs", with_candidates(CHROMIUM, PUBLIC, *HOSTILE))
    assert remote_hosts(strict, answer.peer_id) == {"198.51.100.7"}
    assert strict.stats().totals.dropped_candidates == len(HOSTILE)
    for line in HOSTILE:  # trickled: acknowledged (no error), never used
        await strict.add_candidate(answer.peer_id, "0", line.removeprefix("a="))
    await strict.add_candidate(answer.peer_id, "0",
                               "candidate:13 1 udp 2122194687 198.51.100.9 40001 typ host")
    assert remote_hosts(strict, answer.peer_id) == {"198.51.100.7", "198.51.100.9"}
    assert strict.stats().totals.dropped_candidates == 2 * len(HOSTILE)


class Listener(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.datagrams = 0

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.datagrams += 1


async def test_a_refused_loopback_candidate_gets_no_check_while_an_allowed_one_does(
    planes: tuple[MediaPlane, MediaPlane],
) -> None:
    strict, loopback = planes
    loop = asyncio.get_running_loop()
    ends = [await loop.create_datagram_endpoint(Listener, local_addr=("127.0.0.1", 0))
            for _ in range(2)]
    try:
        refused, allowed = (end[0].get_extra_info("sockname")[1] for end in ends)
        line = "a=candidate:1 1 udp 2122194687 127.0.0.1 {} typ host"
        await strict.publish("expo", "a", with_candidates(GSTREAMER, line.format(refused)))
        await loopback.publish("expo", "b", with_candidates(GSTREAMER, line.format(allowed)))
        await until(lambda: ends[1][1].datagrams >= 2)  # the allowed one: checks arrive
        assert ends[0][1].datagrams == 0
    finally:
        for transport, _ in ends:
            transport.close()

