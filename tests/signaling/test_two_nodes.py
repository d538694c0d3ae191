"""Two real server processes sharing one real redis-server: the media redirect (``wrong_node``
naming the node that holds the room), state read from Redis on every node, emits made on one
node reaching clients on the other (python-socketio's Redis manager), and a removal decided on
one node applied to the session held by the other (the rooms Bus)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST, PRODUCTS
from tests.fixtures.pavilion import TEST_SECRET
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, token

# tests/fixtures/redis_server.py leaves its log file handle open (reported to the lead); the
# ResourceWarning it raises when collected is not about this code.
pytestmark = [pytest.mark.redis, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url


def _env(redis_url: str, node: str) -> dict[str, str]:
    return {"PAVILION_REDIS_URL": redis_url, "PAVILION_SECRET": TEST_SECRET,
            "PAVILION_NODE_ID": node, "PAVILION_DEMO": "true"}


async def test_media_redirect_and_shared_state_across_two_nodes(redis_url, pavilion_process):
    node_a = pavilion_process(env=_env(redis_url, "node-a"))
    node_b = pavilion_process(env=_env(redis_url, "node-b"))
    room = LIVE_BROADCAST
    host = await RtcClient.connect(_Url(node_a.url), token("changbai-foods", room, HOST))
    await host.ok("join", {"room": room})
    await host.ok("chat.send", {"room": room, "text": "from node a"})
    await host.ok("product.pin", {"room": room, "product": PRODUCTS[0][0]})

    viewer_b = await RtcClient.connect(_Url(node_b.url), token("visitor", room, VIEWER))
    redirect = await viewer_b.call("join", {"room": room})
    assert redirect["ok"] is False and redirect["error"]["code"] == "wrong_node"
    assert redirect["error"]["node_url"] == node_a.url and redirect["error"]["node_id"] == "node-a"
    await viewer_b.close()

    viewer = await RtcClient.connect(_Url(redirect["error"]["node_url"]),
                                     token("visitor", room, VIEWER))
    state = await viewer.ok("join", {"room": room})
    assert state["chat"][-1]["text"] == "from node a"
    assert {p["identity"] for p in state["participants"]} == {"changbai-foods", "visitor"}
    assert len(state["products"]) == 1
    await viewer.ok("chat.send", {"room": room, "text": "from the visitor"})
    await host.wait_for("chat.message", lambda m: m["text"] == "from the visitor")
    await host.wait_for("participant.joined", lambda e: e["participant"]["identity"] == "visitor")

    # An emit made on node B (the page API closing a question) reaches the clients on node A.
    asked = await viewer.ok("question.ask", {"room": room, "text": "Shipping to Ulaanbaatar?"})
    qid = asked["question"]["id"]
    async with aiohttp.ClientSession() as http:
        answered = await http.post(
            f"{node_b.url}/api/pages/rooms/{room}/questions/{qid}/answered",
            headers={"Authorization": "Bearer " + token("changbai-foods", room, HOST)})
        assert answered.status == 200, await answered.text()
        closed = await viewer.wait_for("question.answered", lambda q: q["question_id"] == qid)
        assert closed["answered"] is True

        # A removal decided on node B (admin API) ends the session node A holds.
        kicked = await http.post(f"{node_b.url}/api/admin/rooms/{room}/participants/visitor/kick",
                                 headers={"Authorization": "Bearer " + TEST_SECRET})
        assert kicked.status == 200, await kicked.text()
    for _ in range(100):
        reply = await viewer.call("chat.send", {"room": room, "text": "still here?"})
        if not reply["ok"]:
            break
        await asyncio.sleep(0.05)
    assert reply["error"]["code"] == "not_joined"
    assert (await viewer.call("join", {"room": room}))["error"]["code"] == "banned"
    await viewer.close()
    await host.close()
