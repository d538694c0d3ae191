"""Two real server processes sharing one real redis-server (issue 5 §5).

Chat and presence of ONE room cross nodes: the host on node A and a viewer on node B are in the
same room, see each other, chat both ways (each message once, with its stream id) and see each
other's reactions. Media stays on the node holding the room's lease (the host published on A):
the viewer's ``subscribe`` on B is refused with ``wrong_node`` naming A, and works on A. Emits made
on one node reach clients on the other (python-socketio's Redis manager), and a removal decided on
one node ends the session the other node holds (the rooms Bus), as does closing the room."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST, PRODUCTS
from tests.fixtures.pavilion import TEST_SECRET, node_env
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, token
from tests.streaming.clients import Publisher

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST


async def _chat_once(sender: RtcClient, receiver: RtcClient, text: str) -> str:
    """Send a chat message; the receiver (other node) gets it with the id the ack named."""
    sent = (await sender.ok("chat.send", {"room": ROOM, "text": text}))["message"]
    got = await receiver.wait_for("chat.message", lambda m: m["text"] == text)
    assert got["id"] == sent["id"]
    return str(sent["id"])


def _ids(client: RtcClient) -> Counter[str]:
    return Counter(str(m["id"]) for m in client.seen("chat.message"))


def _reacted(kind: str) -> Any:
    return lambda r: r["counts"].get(kind, 0) >= 1


async def test_one_room_across_two_nodes(redis_url, pavilion_process):
    node_a, node_b = pavilion_process.together(node_env(redis_url, "node-a"),
                                               node_env(redis_url, "node-b"))
    host = await RtcClient.connect(node_a, token("changbai-foods", ROOM, HOST))
    await host.ok("join", {"room": ROOM})
    publisher = Publisher("vp8")  # the host's media: node A now holds the room's lease
    answer = await host.ok("publish", {"room": ROOM, "sdp": await publisher.offer()})
    await publisher.accept(answer["sdp"])
    await host.wait_for("track.published", lambda t: t["kind"] == "video")
    await host.ok("chat.send", {"room": ROOM, "text": "from node a"})
    await host.ok("product.pin", {"room": ROOM, "product": PRODUCTS[0][0]})

    viewer = await RtcClient.connect(node_b, token("visitor", ROOM, VIEWER))
    state = await viewer.ok("join", {"room": ROOM})  # chat and presence need no lease
    assert state["chat"][-1]["text"] == "from node a"
    assert {p["identity"] for p in state["participants"]} == {"changbai-foods", "visitor"}
    assert len(state["products"]) == 1
    assert state["media_node"] == {"id": "node-a", "url": node_a.url}  # where to go for media
    # and what is published there, as node A recorded it in the Store
    assert {(t["participant"], t["kind"]) for t in state["tracks"]} == {
        ("changbai-foods", "video"), ("changbai-foods", "audio")}
    await host.wait_for("participant.joined", lambda e: e["participant"]["identity"] == "visitor")

    sent = [await _chat_once(viewer, host, "from the visitor on b"),
            await _chat_once(host, viewer, "from the host on a"),
            await _chat_once(viewer, host, "second from b")]
    await _chat_once(host, viewer, "marker")
    await _chat_once(viewer, host, "marker back")
    await asyncio.sleep(0.5)  # a duplicate (local delivery plus the Redis echo) would be here
    for client in (host, viewer):
        counts = _ids(client)
        assert all(counts[i] == 1 for i in sent), counts
        assert max(counts.values()) == 1, counts

    await viewer.ok("reaction", {"room": ROOM, "kind": "clap"})
    await host.wait_for("reactions", _reacted("clap"))
    await host.ok("reaction", {"room": ROOM, "kind": "fire"})
    await viewer.wait_for("reactions", _reacted("fire"))

    # Media is where the lease is: B sends the viewer to A, and the session on B lives on.
    redirect = await viewer.call("subscribe", {"room": ROOM})
    assert redirect["ok"] is False and redirect["error"]["code"] == "wrong_node"
    assert redirect["error"]["node_url"] == node_a.url and redirect["error"]["node_id"] == "node-a"
    await _chat_once(viewer, host, "still chatting on b")
    watcher = await RtcClient.connect(node_a, token("visitor-media", ROOM, VIEWER))
    await watcher.ok("join", {"room": ROOM})
    assert (await watcher.ok("subscribe", {"room": ROOM}))["type"] == "offer"
    await watcher.ok("leave", {"room": ROOM})
    await viewer.wait_for("participant.left", lambda e: e["identity"] == "visitor-media")

    async with aiohttp.ClientSession() as http:
        # An emit made on node B (the page API closing a question) reaches the clients on A.
        asked = await viewer.ok("question.ask", {"room": ROOM, "text": "Shipping to Ulaanbaatar?"})
        qid = asked["question"]["id"]
        answered = await http.post(
            f"{node_b.url}/api/pages/rooms/{ROOM}/questions/{qid}/answered",
            headers={"Authorization": "Bearer " + token("changbai-foods", ROOM, HOST)})
        assert answered.status == 200, await answered.text()
        closed = await host.wait_for("question.answered", lambda q: q["question_id"] == qid)
        assert closed["answered"] is True

        # A removal decided on node A (admin API) ends the session node B holds.
        kicked = await http.post(f"{node_a.url}/api/admin/rooms/{ROOM}/participants/visitor/kick",
                                 headers={"Authorization": "Bearer " + TEST_SECRET})
        assert kicked.status == 200, await kicked.text()
    for _ in range(100):
        reply = await viewer.call("chat.send", {"room": ROOM, "text": "still here?"})
        if not reply["ok"]:
            break
        await asyncio.sleep(0.05)
    assert reply["error"]["code"] == "not_joined"
    assert (await viewer.call("join", {"room": ROOM}))["error"]["code"] == "banned"

    # Closing the room on node B (admin API) empties it on node A too (Hub.close_room).
    async with aiohttp.ClientSession() as http:
        closed_on_b = await http.post(f"{node_b.url}/api/admin/rooms/{ROOM}/close",
                                      headers={"Authorization": "Bearer " + TEST_SECRET})
        assert closed_on_b.status == 200, await closed_on_b.text()
    assert (await host.wait_for("room.closed"))["change"] == "ended"
    for _ in range(100):
        reply = await host.call("chat.send", {"room": ROOM, "text": "still live?"})
        if not reply["ok"]:
            break
        await asyncio.sleep(0.05)
    assert reply["error"]["code"] == "not_joined"
    for client in (viewer, watcher, host):
        await client.close()
    await publisher.pc.close()
