"""Live HLS from a node that does not hold the room's media (issue 16 §3): it fetches from
the lease holder once and caches; blocking requests of many viewers cost one upstream request."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from rooms.room import RoomKind
from rooms.store import LeaseHolder
from tests.hls.door import Start, node_with, put_rooms, room
from tests.hls.scripted_feed import ScriptedFeed
from web.hls import RELAY_KEY
from web.keys import BACKEND_KEY

VIEWERS = 40


@pytest.mark.redis
async def test_an_edge_node_serves_the_holders_hls(pavilion_app: Start, redis_url: str) -> None:
    feed = ScriptedFeed("show", segments=1, parts=1)
    holder = await node_with(pavilion_app, feed, redis_url=redis_url, node_id="node-a")
    edge = await node_with(pavilion_app, redis_url=redis_url, node_id="node-b")
    await put_rooms(holder, room("show"), room("meet-2", kind=RoomKind.MEETING))
    await holder.app[BACKEND_KEY].store.claim_lease(
        "show", LeaseHolder("node-a", holder.url), ttl_s=60)
    relay = edge.app[RELAY_KEY]
    async with aiohttp.ClientSession() as http:
        async with http.get(edge.url + "/hls/show/index.m3u8") as got:
            text = await got.text()
            assert got.status == 200 and 's1.0.m4s"' in text, text
            assert got.headers["Cache-Control"] == "public, max-age=1" and "ETag" in got.headers
        for _ in range(3):
            async with http.get(edge.url + "/hls/show/s0.m4s") as media:
                assert media.status == 200 and await media.read() == b"media:s0.m4s"
                assert media.headers["Cache-Control"].endswith("immutable")
        sent = relay.upstream_requests
        waits = [asyncio.ensure_future(_get(http, edge.url + "/hls/show/index.m3u8"
                                                          "?_HLS_msn=1&_HLS_part=1"))
                 for _ in range(VIEWERS)]
        await asyncio.sleep(0.5)
        assert not any(w.done() for w in waits)
        await feed.publish_part()
        answers = await asyncio.gather(*waits)
        assert all(status == 200 and 's1.1.m4s"' in body for status, body in answers)
        assert relay.upstream_requests == sent + 1, "one upstream request for every viewer"
        async with http.get(edge.url + "/hls/show/nothing.m4s") as missing:
            assert missing.status == 404
        async with http.get(edge.url + "/hls/meet-2/index.m3u8") as private:
            assert private.status == 403, "the edge asks the gate too"
        async with http.get(holder.url + "/hls/show/index.m3u8",
                            headers={"X-Pavilion-Hop": "node-x"}) as hop:
            assert hop.status == 200, "the holder answers a hop from its feed"
        async with http.get(edge.url + "/hls/show/index.m3u8",
                            headers={"X-Pavilion-Hop": "node-x"}) as bounce:
            assert bounce.status == 404, "a hop is never forwarded again"


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as got:
        return got.status, await got.text()
