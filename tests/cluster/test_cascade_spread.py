"""Cascade placement and depth 2 (issue 13 §3): three in-process nodes on one real
redis-server, every one with ``[cluster] cascade = true``. Node A holds the broadcast (its
publisher is there) and serves one viewer itself (``origin_max_viewers = 1``), then sends the
next WHEP viewer (``307``) and the next page (``media_node``, ``wrong_node``) to an edge chosen
by load. A feeds one edge directly (``cascade_max_edges = 1``): a viewer reaching the third
node makes that node pull, and A sends the pull to its existing edge, so the chain is
A → E1 → E2. An aiortc viewer on each of the three nodes decodes video."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.signaling.rtc_client import RtcClient, token
from tests.streaming.clients import Publisher, Viewer, until
from web.cascade import EDGES_KEY
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
API_KEY = "admin-key-0123456789abcdef0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {API_KEY}"}
CLUSTER = {"placement": "first", "cascade": True, "report_interval_s": 0.3,
           "origin_max_viewers": 1, "cascade_max_edges": 1, "max_load": 50}


def _headers(identity: str, grant: Grant) -> dict[str, str]:
    tok = mint(TEST_SECRET, identity=identity, room=ROOM, grants=[grant], ttl_s=600)
    return {"Content-Type": "application/sdp", "Authorization": f"Bearer {tok}"}


async def _post(http: aiohttp.ClientSession, url: str, offer: str, who: str,
                grant: Grant = Grant.SUBSCRIBE) -> tuple[int, str, str]:
    async with http.post(url, data=offer, headers=_headers(who, grant),
                         allow_redirects=False) as response:
        return response.status, await response.text(), response.headers.get("Location", "")


async def _watch(http: aiohttp.ClientSession, url: str, who: str) -> tuple[Viewer, str]:
    """A WHEP viewer POSTing to ``url``, following one 307; returns it and the node serving."""
    viewer = Viewer()
    offer = await viewer.offer()
    status, answer, location = await _post(http, url, offer, who)
    if status == 307:
        url = location
        status, answer, location = await _post(http, url, offer, who)
    assert status == 201, answer
    await viewer.accept(answer)
    return viewer, url.split("/whep/")[0]


async def _edges(http: aiohttp.ClientSession, node: RunningApp) -> list[str]:
    async with http.get(f"{node.url}/api/admin/rooms/{ROOM}", headers=ADMIN) as response:
        assert response.status == 200, await response.text()
        edges: list[str] = (await response.json())["edges"]
        return edges


async def test_viewers_spread_to_edges_and_an_edge_feeds_an_edge(
        redis_url: str, pavilion_app: Any) -> None:
    nodes = [await pavilion_app(redis_url=redis_url, node_id=f"node-{n}", api_key=API_KEY,
                                cluster=CLUSTER) for n in "abc"]
    a = nodes[0]
    cluster = a.app[BACKEND_KEY].cluster
    for _ in range(100):  # every node's first report is in
        if len(await cluster.nodes()) == 3:
            break
        await asyncio.sleep(0.1)
    publisher = Publisher("vp8")
    viewers: list[Viewer] = []
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{a.url}/whip/{ROOM}", data=await publisher.offer(),
                             headers=_headers("changbai-foods", Grant.PUBLISH)) as response:
            assert response.status == 201, await response.text()
            await publisher.accept(await response.text())
        first, served = await _watch(http, f"{a.url}/whep/{ROOM}", "viewer-1")
        viewers.append(first)
        assert served == a.url  # the origin's own first viewer
        probe = Viewer()
        status, _, location = await _post(http, f"{a.url}/whep/{ROOM}", await probe.offer(),
                                          "viewer-2")
        refused = await _post(http, f"{a.url}/whep/{ROOM}", await probe.offer(), "viewer-9",
                              Grant.PUBLISH)  # may not play: the gate answers before placement
        await probe.close()
        assert refused[0] == 403, refused
        assert status == 307, "the origin is at origin_max_viewers: to an edge"
        e1 = next(n for n in nodes[1:] if location == f"{n.url}/whep/{ROOM}")
        e2 = next(n for n in nodes[1:] if n is not e1)
        second, served = await _watch(http, f"{a.url}/whep/{ROOM}", "viewer-2")
        viewers.append(second)
        assert served == e1.url
        await until(lambda: second.frames.get("video", 0) >= 10, 20)
        assert await _edges(http, a) == [e1.app[EDGES_KEY].settings.node_id]

        page = await RtcClient.connect(a, token("viewer-4", ROOM))  # a page on the origin
        state = await page.ok("join", {"room": ROOM})
        assert state["media_node"]["url"] in (e1.url, e2.url)  # seated on an edge: it moves
        refused = await page.call("subscribe", {"room": ROOM})
        assert refused["error"]["code"] == "wrong_node"
        assert refused["error"]["node_url"] in (e1.url, e2.url)
        await page.close()

        third, served = await _watch(http, f"{e2.url}/whep/{ROOM}", "viewer-3")
        viewers.append(third)
        assert served == e2.url  # an edge under its limit serves who reaches it
        await until(lambda: all(v.frames.get("video", 0) >= 10 for v in viewers), 20)
        (pull,) = e2.app[EDGES_KEY].pulls.values()
        assert pull.feeder == e1.url  # A fed its one edge already: E2 pulls from E1
        e1_id, e2_id = (n.app[EDGES_KEY].settings.node_id for n in (e1, e2))
        assert await _edges(http, a) == [e1_id]
        assert await _edges(http, e1) == [e2_id]
        assert await _edges(http, e2) == []
        for node in nodes:
            assert all(s.packets > 0 for s in node.app[MEDIA_KEY].live_sources(ROOM).values())
        print("frames decoded per viewer (A, E1, E2):",
              [v.frames.get("video", 0) for v in viewers])
    for viewer in viewers:
        await viewer.close()
    await publisher.close()
