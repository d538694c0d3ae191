"""``ClusterNode``'s start-up claim of its id (issue 13): a live holder refuses the start, a dead
one's claim is waited out, so a node restarted after ``kill -9`` with its old id still starts."""

from __future__ import annotations

import asyncio
import time

import pytest

from config import ClusterSettings
from rooms.cluster import ClusterNode, MemoryDirectory, Usage
from rooms.errors import NodeIdTaken

TTL_S = 0.6


def node(directory: MemoryDirectory, url: str = "http://new:8080") -> ClusterNode:
    return ClusterNode(directory, node_id="hall-a", url=url, rules=ClusterSettings(),
                       claim_ttl_s=TTL_S)


async def test_a_live_holder_refuses_the_start() -> None:
    directory = MemoryDirectory()
    live = node(directory, "http://live:8080")
    await live.claim_id()

    async def keep() -> None:  # the live node's keeper
        while True:
            await asyncio.sleep(TTL_S / 4)
            await live.renew_id()

    keeper = asyncio.create_task(keep())
    try:
        with pytest.raises(NodeIdTaken, match=r"held by another live node \(http://live:8080\)"):
            await node(directory).claim_id()
    finally:
        keeper.cancel()


async def test_a_dead_holders_claim_is_waited_out() -> None:
    directory = MemoryDirectory()
    await node(directory, "http://dead:8080").claim_id()  # then nothing renews it
    began = time.monotonic()
    restarted = node(directory)
    await restarted.claim_id()
    assert TTL_S * 0.5 < time.monotonic() - began < TTL_S + 1.0
    claim = await directory.claim("hall-a", "someone", "http://x", ttl_s=TTL_S)
    assert (claim.instance, claim.url) == (restarted.instance, "http://new:8080")


async def test_a_clean_stop_frees_the_id_and_the_report_at_once() -> None:
    directory = MemoryDirectory()
    first = node(directory, "http://first:8080")
    await first.claim_id()
    await first.report(Usage(cpu=0.5, sessions=2))
    assert [n.node_id for n in await directory.reports()] == ["hall-a"]
    await first.release_id()
    assert await directory.reports() == []
    began = time.monotonic()
    await node(directory).claim_id()
    assert time.monotonic() - began < 0.1
