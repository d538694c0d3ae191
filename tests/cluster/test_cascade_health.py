"""Issue 18 §2 follow-up (gap 4) with a real cascade: two in-process nodes on one real
redis-server, a publisher on node A (the origin), a WHEP viewer on node B (an edge pulling the
room from A). Both nodes report the room's health every 0.3 s; the room's detail, read from
either node and again and again, keeps the origin's summary and publisher *and* the edge's
viewer: the edge's report never overwrites the origin's."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET
from tests.streaming.clients import Publisher, Viewer

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
API_KEY = "admin-key-0123456789abcdef0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {API_KEY}"}
FAST = {"placement": "first", "report_interval_s": 0.3}


def _headers(identity: str, grant: Grant) -> dict[str, str]:
    token = mint(TEST_SECRET, identity=identity, room=ROOM, grants=[grant], ttl_s=600)
    return {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}


async def _sdp(http: aiohttp.ClientSession, url: str, offer: str, hdrs: dict[str, str]) -> str:
    async with http.post(url, data=offer, headers=hdrs, allow_redirects=False) as response:
        text = await response.text()
        assert response.status == 201, text  # served here, not redirected
        return text


async def _detail(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(f"{url}/api/admin/rooms/{ROOM}/health", headers=ADMIN) as response:
        assert response.status == 200, await response.text()
        found: dict[str, Any] = await response.json()
        return found


def _links(detail: dict[str, Any]) -> set[tuple[str, str]]:
    return {(x["identity"], x["direction"]) for p in detail["participants"] for x in p["links"]}


async def test_the_edges_report_never_hides_the_origins(redis_url: str,
                                                         pavilion_app: Any) -> None:
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", api_key=API_KEY, cluster=FAST)
    b = await pavilion_app(redis_url=redis_url, node_id="node-b", api_key=API_KEY,
                           cluster={**FAST, "cascade": True})
    publisher, viewer = Publisher("vp8"), Viewer()
    async with aiohttp.ClientSession() as http:
        await publisher.accept(await _sdp(http, f"{a.url}/whip/{ROOM}", await publisher.offer(),
                                          _headers("changbai-foods", Grant.PUBLISH)))
        await viewer.accept(await _sdp(http, f"{b.url}/whep/{ROOM}", await viewer.offer(),
                                       _headers("fan-on-b", Grant.SUBSCRIBE)))
        wanted = {("changbai-foods", "publish"), ("fan-on-b", "view")}
        async with asyncio.timeout(30):
            while True:
                if wanted <= _links(await _detail(http, a.url)):
                    break
                await asyncio.sleep(0.2)
        for _ in range(12):  # across several reports of both nodes, from both nodes
            for node in (a, b):
                detail = await _detail(http, node.url)
                assert wanted <= _links(detail), detail
                assert detail["node"] == detail["health"]["node"] == "node-a"
                assert detail["health"]["publishers"] == 1
            await asyncio.sleep(0.15)
    await viewer.close()
    await publisher.close()
