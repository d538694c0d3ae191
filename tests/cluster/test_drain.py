"""Graceful drain of a real ``pavilion serve`` process on SIGTERM (issue 13).

While it drains, the node keeps serving its clients but answers ``/readyz`` 503, reports
``draining``, tells every Socket.IO session (and any that connects meanwhile) ``node.draining``
naming the other node, and sends a new room there; when its clients have left it exits 0,
well within ``drain_s``.
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
from rooms.room import RoomKind
from rooms.token import Grant, mint
from tests.cluster.helpers import ADMIN, FAST, ids, wait_nodes
from tests.fixtures.pavilion import TEST_SECRET, node_env
from tests.signaling.rtc_client import RtcClient, make_room, token
from web.keys import DRAIN_KEY

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
DRAIN_S = 10
OFFER = (Path(__file__).parent.parent / "data" / "sdp" / "chromium-156-publish-offer.sdp"
         ).read_text()


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as response:
        return response.status, await response.json()


async def test_sigterm_drains_the_node_then_it_exits_0(
        redis_url: str, pavilion_process: Any, pavilion_app: Any) -> None:
    env = {**node_env(redis_url, "hall-a"), "PAVILION_CLUSTER__REPORT_INTERVAL_S": "0.3",
           "PAVILION_CLUSTER__DRAIN_S": str(DRAIN_S)}
    leaving = pavilion_process(env=env)
    staying = await pavilion_app(redis_url=redis_url, node_id="hall-b", cluster=FAST)
    await wait_nodes(staying.url, lambda found: ids(found) == ["hall-a", "hall-b"])
    member = await RtcClient.connect(leaving, token("visitor", ROOM))
    await member.ok("join", {"room": ROOM})
    async with aiohttp.ClientSession() as http:
        assert (await _get(http, f"{leaving.url}/readyz"))[0] == 200

        began = time.monotonic()
        leaving.proc.send_signal(signal.SIGTERM)
        notice = await member.wait_for("node.draining")
        assert (notice["node_id"], notice["node_url"]) == ("hall-b", staying.url)
        assert 0 < notice["deadline_s"] <= DRAIN_S
        assert await _get(http, f"{leaving.url}/readyz") == (
            503, {"ready": False, "reason": "draining"})
        await wait_nodes(staying.url, lambda found: found[0]["draining"] is True)

        await member.ok("chat.send", {"room": ROOM, "text": "still served while draining"})
        late = await RtcClient.connect(leaving, token("latecomer", ROOM))
        assert (await late.wait_for("node.draining"))["node_url"] == staying.url
        await late.ok("join", {"room": ROOM})  # chat and presence: still here
        reply = await late.call("subscribe", {"room": ROOM})  # a new room's media: not here
        assert reply["error"]["code"] == "wrong_node" and reply["error"]["node_url"] == (
            staying.url), reply
        publisher = mint(TEST_SECRET, identity="changbai-foods", room=ROOM,
                         grants=[Grant.PUBLISH], ttl_s=600)
        async with http.post(f"{leaving.url}/whip/{ROOM}", data=OFFER, allow_redirects=False,
                             headers={"Authorization": f"Bearer {publisher}",
                                      "Content-Type": "application/sdp"}) as response:
            assert response.status == 307, await response.text()
            assert response.headers["Location"] == f"{staying.url}/whip/{ROOM}"
        assert leaving.proc.poll() is None  # its clients are still here: it waits for them

    await member.close()
    await late.close()
    code = await asyncio.to_thread(leaving.proc.wait, DRAIN_S + 5)
    took = time.monotonic() - began
    print(f"drained and exited {code} {took:.2f} s after SIGTERM (drain_s {DRAIN_S})")
    assert code == 0 and took < DRAIN_S
    output = leaving.output()
    assert "Traceback" not in output


async def test_a_node_draining_alone_keeps_its_rooms_and_takes_no_new_one(
        pavilion_app: Any) -> None:
    """No other node (memory state): a drain through the admin API keeps serving the rooms
    this node holds, answers a new room ``media_unavailable`` (WHIP: 503), and is done when its
    clients have left (the process would exit then; in-process it just stays drained)."""
    node = await pavilion_app(cluster={"drain_s": 30})
    await make_room(node, "new-launch", RoomKind.BROADCAST)
    member = await RtcClient.connect(node, token("visitor", ROOM))
    await member.ok("join", {"room": ROOM})
    await member.call("subscribe", {"room": ROOM})  # nothing published: the lease is taken
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{node.url}/api/admin/nodes/{node.settings.node_id}/drain",
                             headers=ADMIN) as response:
            assert response.status == 202, await response.text()
        notice = await member.wait_for("node.draining")
        assert (notice["node_id"], notice["node_url"]) == (None, None)
        held = await member.call("subscribe", {"room": ROOM})  # its own room: still served
        assert held.get("error", {}).get("code") not in ("wrong_node", "media_unavailable"), held
        newcomer = await RtcClient.connect(node, token("visitor-2", "new-launch"))
        await newcomer.ok("join", {"room": "new-launch"})
        reply = await newcomer.call("subscribe", {"room": "new-launch"})
        assert reply["error"]["code"] == "media_unavailable", reply
        publisher = mint(TEST_SECRET, identity="launcher", room="new-launch",
                         grants=[Grant.PUBLISH], ttl_s=600)
        async with http.post(f"{node.url}/whip/new-launch", data=OFFER,
                             headers={"Authorization": f"Bearer {publisher}",
                                      "Content-Type": "application/sdp"}) as response:
            assert (response.status, response.headers["Retry-After"]) == (503, "5")
    drain = node.app[DRAIN_KEY]
    assert not drain.done.is_set()
    await member.close()
    await newcomer.close()
    await asyncio.wait_for(drain.done.wait(), 10)
