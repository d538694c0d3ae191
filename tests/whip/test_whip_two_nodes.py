"""WHIP and WHEP across two real nodes sharing one real redis-server: a POST to the node that
does not hold the room's media is redirected (307; RFC 9725, "Load Balancing and Redirections")
to the one that does, and the client's repeated POST there publishes or plays (issue 3 §7–8)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, node_env
from tests.streaming.clients import Publisher, Viewer, until

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST


def _headers(identity: str, grant: Grant) -> dict[str, str]:
    token = mint(TEST_SECRET, identity=identity, room=ROOM, grants=[grant], ttl_s=600)
    return {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}


async def _post(http: aiohttp.ClientSession, url: str, offer: str,
                hdrs: dict[str, str]) -> tuple[int, str, Any]:
    async with http.post(url, data=offer, headers=hdrs, allow_redirects=False) as response:
        return response.status, await response.text(), response.headers


async def test_whip_and_whep_are_redirected_to_the_node_holding_the_media(
    redis_url: str, pavilion_process: Any
) -> None:
    node_a, node_b = pavilion_process.together(node_env(redis_url, "node-a"),
                                               node_env(redis_url, "node-b"))
    publisher, viewer = Publisher("vp8"), Viewer()
    async with aiohttp.ClientSession() as http:
        hdrs = _headers("changbai-foods", Grant.PUBLISH)
        status, answer, _ = await _post(http, f"{node_a.url}/whip/{ROOM}",
                                        await publisher.offer(), hdrs)
        assert status == 201, answer  # node A now holds the room's media
        await publisher.accept(answer)

        offer = await viewer.offer()
        hdrs = _headers("player", Grant.SUBSCRIBE)
        status, text, headers = await _post(http, f"{node_b.url}/whep/{ROOM}?participant="
                                            "changbai-foods", offer, hdrs)
        assert status == 307, text
        assert headers["Location"] == (f"{node_a.url}/whep/{ROOM}?participant=changbai-foods")
        status, answer, _ = await _post(http, headers["Location"], offer, hdrs)
        assert status == 201, answer
        await viewer.accept(answer)
        await until(lambda: viewer.count("video") >= 30, 20)

        second = Publisher("vp8")  # a second encoder aimed at node B goes to A too
        status, text, headers = await _post(http, f"{node_b.url}/whip/{ROOM}",
                                            await second.offer(),
                                            _headers("guest-cam", Grant.PUBLISH))
        assert (status, headers["Location"]) == (307, f"{node_a.url}/whip/{ROOM}"), text
        await second.close()
    await viewer.close()
    await publisher.close()
