"""``kill -9`` of the node holding a broadcast's media (issue 13 deliverable 4, node loss).

Node A is a real ``pavilion serve`` process holding the room (an aiortc WHIP publisher and a
Socket.IO member on it); node B (in this process) has a member of the same room. A is killed
with SIGKILL and, with the default ``[cluster]`` timings (reports every 2 s, living 6 s; lease
8 s renewed every 2 s), the test measures and asserts:

* WHIP to B is redirected to A while A still counts as live, never after, and B takes the room
  (``201``) within 10 s of the kill;
* B's member hears ``participant.left`` for A's member and ``track.unpublished`` for A's
  tracks within 10 s;
* the ``session`` event lists the other live nodes (where a page goes when its node dies).
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from tests.cluster.helpers import ids, wait_nodes
from tests.fixtures.pavilion import TEST_SECRET, node_env
from tests.signaling.rtc_client import RtcClient, token
from tests.streaming.clients import Publisher
from web.keys import BACKEND_KEY

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
TARGET_S = 10.0  # issue 13: "taken over by other nodes within 10 s"
OFFER = (Path(__file__).parent.parent / "data" / "sdp" / "chromium-156-publish-offer.sdp"
         ).read_text()


def _whip_headers() -> dict[str, str]:
    publisher = mint(TEST_SECRET, identity="changbai-foods", room=ROOM, grants=[Grant.PUBLISH],
                     ttl_s=600)
    return {"Authorization": f"Bearer {publisher}", "Content-Type": "application/sdp"}


async def _post(http: aiohttp.ClientSession, url: str, offer: str) -> tuple[int, str]:
    async with http.post(url, data=offer, headers=_whip_headers(),
                         allow_redirects=False) as response:
        await response.read()
        return response.status, response.headers.get("Location", "")


async def test_kill_9_of_the_media_node_moves_its_room_and_tells_the_members(
        redis_url: str, pavilion_process: Any, pavilion_app: Any) -> None:
    origin = pavilion_process(env=node_env(redis_url, "node-a"))
    survivor = await pavilion_app(redis_url=redis_url, node_id="node-b",
                                  cluster={"placement": "first"})
    await wait_nodes(survivor.url, lambda found: ids(found) == ["node-a", "node-b"])
    publisher = Publisher("vp8")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{origin.url}/whip/{ROOM}", data=await publisher.offer(),
                             headers=_whip_headers()) as response:
            assert response.status == 201, await response.text()
            await publisher.accept(await response.text())
        there = await RtcClient.connect(origin, token("visitor-a", ROOM))
        await there.ok("join", {"room": ROOM})
        here = await RtcClient.connect(survivor, token("visitor-b", ROOM))
        await here.ok("join", {"room": ROOM})
        # where a page goes if its node dies: the other live nodes (docs/protocol.md)
        assert here.session["nodes"] == [{"id": "node-a", "url": origin.url}]
        store = survivor.app[BACKEND_KEY].store
        deadline = time.monotonic() + 15
        while len((await store.get_tracks(ROOM) or ("", []))[1]) < 2:  # A recorded both
            assert time.monotonic() < deadline, await store.get_tracks(ROOM)
            await asyncio.sleep(0.1)
        assert await _post(http, f"{survivor.url}/whip/{ROOM}", OFFER) == (
            307, f"{origin.url}/whip/{ROOM}")

        killed = time.monotonic()
        origin.proc.send_signal(signal.SIGKILL)
        redirects, status, location = 0, 0, ""
        while time.monotonic() - killed < 2 * TARGET_S:
            status, location = await _post(http, f"{survivor.url}/whip/{ROOM}", OFFER)
            if status != 307:
                break
            assert location == f"{origin.url}/whip/{ROOM}"  # the only other node
            redirects += 1
            await asyncio.sleep(0.25)
        took = time.monotonic() - killed
        left = await here.wait_for("participant.left",
                                   lambda e: e["identity"] == "visitor-a", within=2 * TARGET_S)
        left_s = time.monotonic() - killed
        ended = await here.wait_for("track.unpublished",
                                    lambda e: e["participant"] == "changbai-foods",
                                    within=2 * TARGET_S)
        ended_s = time.monotonic() - killed
        print(f"kill -9 of the media node: node-b took the room {took:.2f} s later "
              f"({redirects} WHIP redirects to the dead node meanwhile); participant.left "
              f"after {left_s:.2f} s, track.unpublished after {ended_s:.2f} s")
        assert status == 201, (status, location)
        assert took < TARGET_S and left_s < TARGET_S and ended_s < TARGET_S
        assert left["room_id"] == ended["room_id"] == ROOM
        assert len([e for e in here.seen("track.unpublished")
                    if e["participant"] == "changbai-foods"]) == 2  # video and audio, once each
        await wait_nodes(survivor.url, lambda found: ids(found) == ["node-b"])
        lease = await store.get_lease(ROOM)
        assert lease is not None and lease.holder.node_id == "node-b"
    await here.close()
    await publisher.close()
    await there.sio.disconnect()
