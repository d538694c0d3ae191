"""Issue 18 §2 on two real nodes sharing one real redis-server: a room live on node B (a real
aiortc publisher over WHIP, a real aiortc viewer over WHEP) shows up in node A's overview with
its node, viewers and publisher bitrate, and node A's room health lists both links."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, node_env
from tests.streaming.clients import Publisher, Viewer, until

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
ADMIN = {"Authorization": f"Bearer {TEST_SECRET}"}  # demo mode: the admin API takes the secret


def _headers(identity: str, grant: Grant) -> dict[str, str]:
    token = mint(TEST_SECRET, identity=identity, room=ROOM, grants=[grant], ttl_s=600)
    return {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}


async def _sdp(http: aiohttp.ClientSession, url: str, offer: str,
               headers: dict[str, str]) -> str:
    async with http.post(url, data=offer, headers=headers, allow_redirects=False) as response:
        text = await response.text()
        assert response.status == 201, text
        return text


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url, headers=ADMIN) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _row_on(http: aiohttp.ClientSession, node_url: str, room: str,
                  ready: Any, within: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            view = await _get(http, f"{node_url}/api/admin/overview?limit=200")
            rows = [r for r in view["rooms"] if r["id"] == room]
            if rows and ready(rows[0]):
                return dict(rows[0])
            await asyncio.sleep(0.5)


async def test_a_room_on_node_b_is_seen_from_node_a(redis_url: str,
                                                    pavilion_process: Any) -> None:
    node_a, node_b = pavilion_process.together(node_env(redis_url, "node-a"),
                                               node_env(redis_url, "node-b"))
    publisher, viewer = Publisher("vp8"), Viewer()
    async with aiohttp.ClientSession() as http:
        answer = await _sdp(http, f"{node_b.url}/whip/{ROOM}", await publisher.offer(),
                            _headers("changbai-foods", Grant.PUBLISH))
        await publisher.accept(answer)  # node B now holds the room's media
        answer = await _sdp(http, f"{node_b.url}/whep/{ROOM}?participant=changbai-foods",
                            await viewer.offer(), _headers("player", Grant.SUBSCRIBE))
        await viewer.accept(answer)
        await until(lambda: viewer.count("video") >= 30, 20)

        def flowing(row: dict[str, Any]) -> bool:
            health = row["health"] or {}
            return health.get("viewers", 0) >= 1 and health.get("bitrate_bps", 0) > 0

        row = await _row_on(http, node_a.url, ROOM, flowing)
        health = row["health"]
        assert row["node"] == health["node"] == "node-b"
        assert health["publishers"] == 1 and health["viewers"] == 1
        assert 10_000 < health["bitrate_bps"] < 50_000_000
        assert health["quiet_s"] is not None and health["quiet_s"] < 5
        assert not [a for a in row["alerts"] if a["kind"] == "publisher_quiet"]

        detail = await _get(http, f"{node_a.url}/api/admin/rooms/{ROOM}/health")
        links = {x["direction"]: x for p in detail["participants"] for x in p["links"]}
        assert links["publish"]["identity"] == "changbai-foods"
        assert links["publish"]["bitrate_bps"] > 0
        assert links["view"]["identity"] == "player"
        assert list(links["view"]["layers"].values()) == ["main"]  # one layer: it gets it

        await publisher.close()  # the room goes quiet: node A says so within a few reports
        await _row_on(http, node_a.url, ROOM,
                      lambda r: r["health"] is None or r["health"]["publishers"] == 0
                      or any(a["kind"] == "publisher_quiet" for a in r["alerts"]))
    await viewer.close()
