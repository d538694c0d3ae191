"""Placement by load across two real nodes on one real redis-server (issue 13).

Node A's load is driven through the real reporting path: its ``session_capacity`` is one, so
each Socket.IO session connected to it is a full node's worth of load in its next report. A
client of a room nobody holds yet, on A, is sent to B (Socket.IO ``wrong_node``, WHIP ``307``),
and B takes the room when the client gets there. Both nodes run with their default ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from tests.cluster.helpers import ADMIN, FAST, wait_nodes
from tests.fixtures.pavilion import TEST_SECRET
from tests.signaling.rtc_client import RtcClient, token

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
OFFER = (Path(__file__).parent.parent / "data" / "sdp" / "chromium-156-publish-offer.sdp"
         ).read_text()


async def test_a_new_room_on_a_loaded_node_is_placed_on_the_idle_one(
        redis_url: str, pavilion_app: Any) -> None:
    busy = await pavilion_app(redis_url=redis_url, node_id=None,
                              cluster={**FAST, "session_capacity": 1})
    idle = await pavilion_app(redis_url=redis_url, node_id=None, cluster=FAST)
    a, b = busy.settings.node_id, idle.settings.node_id
    assert a != b  # two nodes on one host, default ids
    clients = [await RtcClient.connect(busy, token(f"visitor-{n}", ROOM)) for n in range(3)]

    def loaded(found: list[dict[str, Any]]) -> bool:
        load = {n["id"]: n["load"] for n in found}
        return load.get(a, 0) >= 3 and b in load

    listed = await wait_nodes(idle.url, loaded)
    print("reports:", [(n["id"], n["load"], n["sessions"]) for n in listed])

    viewer = clients[0]
    await viewer.ok("join", {"room": ROOM})  # chat and presence: any node
    reply = await viewer.call("subscribe", {"room": ROOM})
    assert not reply["ok"] and reply["error"]["code"] == "wrong_node", reply
    assert (reply["error"]["node_url"], reply["error"]["node_id"]) == (idle.url, b)

    publisher = mint(TEST_SECRET, identity="changbai-foods", room=ROOM, grants=[Grant.PUBLISH],
                     ttl_s=600)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{busy.url}/whip/{ROOM}", data=OFFER, allow_redirects=False,
                             headers={"Authorization": f"Bearer {publisher}",
                                      "Content-Type": "application/sdp"}) as response:
            assert response.status == 307, await response.text()
            assert response.headers["Location"] == f"{idle.url}/whip/{ROOM}"

        moved = await RtcClient.connect(idle, token("visitor-0", ROOM))
        await moved.ok("join", {"room": ROOM})
        await moved.call("subscribe", {"room": ROOM})  # nothing published yet: the claim is made
        async with http.get(f"{busy.url}/api/admin/rooms/{ROOM}", headers=ADMIN) as response:
            detail = await response.json()
    assert detail["node"] == {"id": b, "url": idle.url}
    assert detail["edges"] == []
    for client in [*clients, moved]:
        await client.close()
