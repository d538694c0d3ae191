"""A session's failover list follows the node directory (issue 13, node loss; docs/protocol.md
``nodes``): two in-process nodes on one real redis-server, a real Socket.IO client.

The client connects to node B while B is alone: its ``session`` lists no other node. Node A
starts; within a few of B's looks at the directory the client gets ``nodes`` listing A (it never
reconnected). A stops; the client gets ``nodes`` without it. B never sends the same list twice
in a row (an unchanged directory sends nothing).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pytest
from aiohttp import web

from rooms.demo import LIVE_BROADCAST
from tests.cluster.helpers import FAST, ids, wait_nodes
from tests.fixtures.pavilion import RunningApp, make_settings
from tests.signaling.rtc_client import RtcClient, token
from web.app import create_app
from web.catalog import Catalogs
from web.server import bounded_cleanup

pytestmark = [pytest.mark.redis, pytest.mark.slow]
WITHIN_S = 20.0  # generous: B looks every 0.3 s; only a failure waits this long
STOP_BOUND_S = 45.0


@dataclass
class StoppableNode:
    """A node this test stops while the other lives on (the fixture stops its nodes last)."""

    running: RunningApp
    runner: web.AppRunner
    stopped: bool = False

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            stuck = await bounded_cleanup(self.runner, STOP_BOUND_S)
            assert stuck == "", f"the node's clean-up hung; tasks:\n{stuck}"


@asynccontextmanager
async def _node(redis_url: str, node_id: str,
                catalogs: Catalogs) -> AsyncIterator[StoppableNode]:
    settings = make_settings(redis_url=redis_url, node_id=node_id, cluster=FAST)
    runner = web.AppRunner(create_app(settings, catalogs=catalogs), handle_signals=False,
                           access_log=None, shutdown_timeout=5)
    await runner.setup()
    node = StoppableNode(RunningApp(f"http://127.0.0.1:{settings.port}", runner.app, settings),
                         runner)
    try:
        await web.TCPSite(runner, "127.0.0.1", settings.port).start()
        yield node
    finally:
        await node.stop()


def _listed(event: dict[str, Any]) -> list[str]:
    return [n["id"] for n in event["nodes"]]


async def test_a_session_hears_nodes_that_start_and_stop_after_it_connected(
        redis_url: str, pavilion_app: Any, catalogs: Catalogs) -> None:
    b = await pavilion_app(redis_url=redis_url, node_id="node-b", cluster=FAST)
    await wait_nodes(b.url, lambda found: ids(found) == ["node-b"])
    client = await RtcClient.connect(b, token("visitor", LIVE_BROADCAST))
    assert client.session["nodes"] == []  # B is alone: nowhere to go yet
    try:
        async with _node(redis_url, "node-a", catalogs) as a:
            arrived = await client.wait_for("nodes", lambda e: _listed(e) == ["node-a"],
                                            within=WITHIN_S)
            assert arrived == {"nodes": [{"id": "node-a", "url": a.running.url}]}
            await a.stop()  # a clean stop: A's report is dropped, B's next look misses it
            # B's list started empty: an empty ``nodes`` comes only after A was listed
            await client.wait_for("nodes", lambda e: e["nodes"] == [], within=WITHIN_S)
        await asyncio.sleep(1.0)  # several more looks at an unchanged directory
        lists = [_listed(e) for e in client.seen("nodes")]
        assert lists[-1] == [] and ["node-a"] in lists, lists
        assert all(one != after for one, after in pairwise(lists)), lists  # never repeated
    finally:
        await client.close()


async def test_a_resumed_session_hears_nodes_too(
        redis_url: str, pavilion_app: Any, catalogs: Catalogs) -> None:
    """A page that reconnected within the grace (its session resumed) is in the node's channel
    again: a node starting after the resume reaches it as ``nodes``."""
    b = await pavilion_app(redis_url=redis_url, node_id="node-b", cluster=FAST)
    await wait_nodes(b.url, lambda found: ids(found) == ["node-b"])
    first = await RtcClient.connect(b, token("visitor", LIVE_BROADCAST))
    await first.ok("join", {"room": LIVE_BROADCAST})  # a session in a room is kept for the grace
    session = first.session["session"]
    await first.close()
    client = await RtcClient.connect(b, token("visitor", LIVE_BROADCAST), session=session)
    assert client.session["resumed"] is True and client.session["nodes"] == []
    try:
        async with _node(redis_url, "node-a", catalogs):
            await client.wait_for("nodes", lambda e: _listed(e) == ["node-a"], within=WITHIN_S)
    finally:
        await client.close()
