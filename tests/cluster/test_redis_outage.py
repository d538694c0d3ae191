"""Redis trouble (issue 13 §6): two in-process nodes on one real redis-server, stopped for 5 s and
started again on the same port, its data kept (``SAVE`` first) or lost (no persistence).

Every acknowledged chat message reaches every member on both nodes exactly once (the nodes
deliver from the Store's stream, signaling/chat_tail.py, not from pub/sub); cross-node chat is
back within 5 s of Redis (the issue's target); a room created through the admin API is written
back by the node that holds it live when Redis comes back empty (rooms/keeper.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from tests.cluster.outage import ADMIN, Sender, two_nodes
from tests.cluster.outage import member as _member
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.redis_server import RedisServer
from tests.signaling.rtc_client import RtcClient
from web.keys import HUB_KEY

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = "outage-forum"
OUTAGE_S = 5.0
BACK_WITHIN_S = 5.0  # issue 13: cross-node chat back within 5 s of Redis


async def _nodes(redis: RedisServer, pavilion_app: Any) -> tuple[RunningApp, RunningApp]:
    return await two_nodes(redis, pavilion_app, ROOM)


async def _join(node: RunningApp, who: str) -> RtcClient:
    return await _member(node, who, ROOM)


def _ids(client: RtcClient) -> Counter[str]:
    return Counter(str(m["id"]) for m in client.seen("chat.message"))


async def _cross_node_back(sender: RtcClient, receiver: RtcClient, since: float) -> float:
    """Seconds from ``since`` until a message sent on one node is seen on the other."""
    n = 0
    while True:
        n += 1
        text = f"probe:{n}"
        reply = await sender.call("chat.send", {"room": ROOM, "text": text}, within=5)
        assert time.monotonic() - since < 4 * BACK_WITHIN_S, f"chat still refused: {reply}"
        if reply["ok"]:
            await receiver.wait_for("chat.message", lambda m, t=text: m["text"] == t, within=10)
            return time.monotonic() - since
        await asyncio.sleep(0.05)


async def _all_delivered(members: list[RtcClient], acked: set[str], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(acked <= set(_ids(m)) for m in members):
            return
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("data", ["kept", "lost"])
async def test_no_acknowledged_chat_is_lost_across_a_redis_outage(
        data: str, redis_factory: Callable[[], RedisServer], pavilion_app: Any) -> None:
    redis = redis_factory()
    a, b = await _nodes(redis, pavilion_app)
    a1, a2, b1, b2 = (await _join(a, "a1"), await _join(a, "a2"),
                      await _join(b, "b1"), await _join(b, "b2"))
    members = [a1, a2, b1, b2]
    pairs = [(a1, "a1"), (b1, "b1"), (a2, "a2"), (b2, "b2")]
    senders = [Sender(c, w, ROOM, 0.2) for c, w in pairs]
    try:
        await asyncio.sleep(1.5)
        if data == "kept":
            assert redis.command(b"SAVE").startswith(b"+OK")
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(redis.start)
        back = time.monotonic()
        a_to_b = await _cross_node_back(a1, b2, back)
        b_to_a = await _cross_node_back(b1, a2, back)
        print(f"\nredis back ({data}): cross-node chat A->B after {a_to_b:.2f} s,"
              f" B->A after {b_to_a:.2f} s")
        assert max(a_to_b, b_to_a) < BACK_WITHIN_S
        await asyncio.sleep(1.5)
    finally:
        for sender in senders:
            await sender.stop()
    acked = {i for s in senders for i in s.acked}
    await _all_delivered(members, acked, within=10)
    print(f"acknowledged {len(acked)}; refused during the outage "
          f"{sum((s.refused for s in senders), Counter())}")
    assert len(acked) > 40
    for member in members:
        got = _ids(member)
        assert acked <= set(got), f"missing {sorted(acked - set(got))[:5]}"
        assert [i for i, n in got.items() if n > 1] == []  # exactly once
        order = [str(m["id"]) for m in member.seen("chat.message")]
        for sender in senders:  # each sender's order kept
            mine = [i for i in order if i in set(sender.acked)]
            assert mine == sender.acked
    for client in members:
        await client.close()


async def test_a_redis_that_comes_back_empty_gets_the_live_rooms_back(
        redis_factory: Callable[[], RedisServer], pavilion_app: Any) -> None:
    redis = redis_factory()
    a, b = await _nodes(redis, pavilion_app)
    a1, b1 = await _join(a, "a1"), await _join(b, "b1")
    await asyncio.to_thread(redis.stop)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(redis.start)  # no persistence: empty
    back = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{b.url}/api/admin/rooms/{ROOM}", headers=ADMIN) as response:
                if response.status == 200:
                    break
                assert time.monotonic() - back < BACK_WITHIN_S, response.status
            await asyncio.sleep(0.1)
    print(f"\nroom written back {time.monotonic() - back:.2f} s after Redis")
    await _cross_node_back(a1, b1, back)
    for client in (a1, b1):
        await client.close()


@pytest.mark.parametrize("data", ["kept", "lost"])
async def test_a_write_redis_lost_before_another_node_read_it_reaches_everyone_once(
        data: str, redis_factory: Callable[[], RedisServer], pavilion_app: Any) -> None:
    """Redis acknowledged a message, then restarted without it (from an older snapshot, or
    empty) before node B's tail had read it: node A writes it again under its id
    (rooms/written_chat.py), B's members get it, and nobody gets anything twice."""
    redis = redis_factory()
    a, b = await _nodes(redis, pavilion_app)
    a1, a2, b1 = await _join(a, "a1"), await _join(a, "a2"), await _join(b, "b1")
    before = [(await a1.ok("chat.send", {"room": ROOM, "text": f"before:{n}"}))["message"]["id"]
              for n in range(3)]
    for member in (a2, b1):
        await member.wait_for("chat.message", lambda m: m["id"] == before[-1], within=5)
    tail_b = b.app[HUB_KEY].chat_tail
    assert tail_b is not None
    held, real = asyncio.Event(), tail_b.read_once

    async def slow_read() -> None:  # B's loop is late to its next read (a loaded machine)
        await held.wait()
        await real()

    tail_b.read_once = slow_read  # type: ignore[method-assign]
    await asyncio.sleep(tail_b.block_s + 0.3)  # the read under way ends; the next one waits
    if data == "kept":
        assert redis.command(b"SAVE").startswith(b"+OK")
    lost = (await a1.ok("chat.send", {"room": ROOM, "text": "lost"}))["message"]["id"]
    await a2.wait_for("chat.message", lambda m: m["id"] == lost, within=5)
    await asyncio.to_thread(redis.kill)
    await asyncio.to_thread(redis.start)
    held.set()
    await b1.wait_for("chat.message", lambda m: m["id"] == lost, within=10)
    while not (reply := await b1.call("chat.send", {"room": ROOM, "text": "after"}))["ok"]:
        assert reply["error"]["code"] == "no_such_room"  # until A's keeper writes it back
        await asyncio.sleep(0.1)
    after = reply["message"]["id"]
    for member in (a1, a2):
        await member.wait_for("chat.message", lambda m: m["id"] == after, within=10)
    await asyncio.sleep(0.5)
    for member in (a1, a2, b1):
        order = [str(m["id"]) for m in member.seen("chat.message")]
        assert order == [*before, lost, after], order  # once each, in order
    rewritten = 1 if data == "kept" else 4  # the stream kept what was before SAVE, or nothing
    assert a.app[HUB_KEY].service.journal.restored == rewritten
    async with aiohttp.ClientSession() as http, http.get(f"{a.url}/metrics") as response:
        assert f"\npavilion_chat_rewritten_total {rewritten}.0\n" in await response.text()
    for client in (a1, a2, b1):
        await client.close()
