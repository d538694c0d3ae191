"""Chat *during* a Redis outage (issue 13 §6): two in-process nodes on one real redis-server,
stopped for 5 s and for a long outage, then started again on the same port (its data kept).

The long outage is issue 13's 70 s one. What 70 s crossed that 5 s does not is every timer a
node's state in Redis has: presence records lapse (``[cluster] presence_ttl_s``, 30 s), leases
(``lease_ttl_s``, 8 s) and load reports (3 × ``report_interval_s``) expire, and every reconnect
backs off to its cap (python-socketio's 60 s, replaced by web/rtc_fanout.py's 1 s; the bus
2 s, the store 1 s). Here presence lives 6 s, and the outage lasts three times the longest of
those timers (24 s, asserted from the nodes' settings), so it proves the same as 70 s did.

Members on both nodes chat at a steady rate throughout. While Redis is down every message is
accepted (``journaled: true``) and reaches the members of its own node at once; when Redis is
back each node writes what it kept (rooms/chat_journal.py), and every member of every node has
every acknowledged message exactly once, in each sender's order. Printed: how long after Redis
returned cross-node chat and cross-node presence were back (asserted against the 5 s target).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from rooms.redis_bus import BACKOFF_CAP_S
from tests.cluster.outage import Sender, member, two_nodes
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.redis_server import RedisServer
from tests.signaling.rtc_client import HOST, RtcClient, token
from web.keys import BACKEND_KEY
from web.rtc_fanout import LISTEN_BACKOFF_S

pytestmark = [pytest.mark.redis]
ROOM = "journal-forum"
BACK_WITHIN_S = 5.0  # issue 13: cross-node chat and presence back within 5 s of Redis
EVERY_S = 0.5  # each sender: 2 messages/s, four senders, two per node
LONG_PRESENCE_TTL_S = 6.0  # `[cluster] presence_ttl_s`, 30 s by default
LONG_OUTAGE_S = 24.0  # three times the longest timer: the lease's 8 s


async def _nodes(redis: RedisServer, pavilion_app: Any,
                 **overrides: Any) -> tuple[RunningApp, RunningApp]:
    return await two_nodes(redis, pavilion_app, ROOM, **overrides)


def _longest_ttl_s(node: RunningApp) -> float:
    """The longest lifetime of anything a node keeps in Redis (as its room service and its
    reporter use them), and the longest backoff."""
    service = node.app[BACKEND_KEY].service
    return max(service.presence_ttl_s, service.lease_ttl_s,
               3 * node.settings.cluster.report_interval_s, LISTEN_BACKOFF_S[1], BACKOFF_CAP_S)


async def _join(node: RunningApp, who: str) -> RtcClient:
    return await member(node, who, ROOM)


def _ids(client: RtcClient) -> list[str]:
    return [str(m["id"]) for m in client.seen("chat.message")]


async def _cross_node_chat(sender: RtcClient, receiver: RtcClient, since: float) -> float:
    text = f"probe:{time.monotonic()}"
    reply = await sender.call("chat.send", {"room": ROOM, "text": text}, within=5)
    assert reply["ok"], reply
    await receiver.wait_for("chat.message", lambda m: m["text"] == text, within=30)
    return time.monotonic() - since


async def _cross_node_presence(node: RunningApp, who: str, watcher: RtcClient,
                               since: float) -> tuple[float, int]:
    """Seconds from ``since`` until someone joining on ``node`` is seen by ``watcher``
    (``participant.joined``), and how many joins before that went unseen: presence events
    cross nodes over Socket.IO's Redis pub/sub, which drops what is published before a node's
    listener has subscribed again (at most once; the Store's roster is right regardless)."""
    lost, clients = 0, []
    try:
        for n in range(100):
            client = await RtcClient.connect(node, token(f"{who}{n}", ROOM))
            clients.append(client)
            reply = await client.call("join", {"room": ROOM}, within=5)
            if not reply["ok"]:
                await asyncio.sleep(0.05)
                continue
            joined = f"{who}{n}"
            with contextlib.suppress(TimeoutError):
                await watcher.wait_for(
                    "participant.joined",
                    lambda e, i=joined: bool(e["participant"]["identity"] == i), within=1.0)
                return time.monotonic() - since, lost
            lost += 1
        raise AssertionError("presence never crossed nodes")
    finally:
        for client in clients:
            await client.close()


async def _delivered(members: list[RtcClient], acked: set[str], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(acked <= set(_ids(m)) for m in members):
            return
        await asyncio.sleep(0.1)


async def _until_seen(member: RtcClient, ids: set[str], what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not ids <= set(_ids(member)):
        assert time.monotonic() < deadline, f"{what}: missing {sorted(ids - set(_ids(member)))}"
        await asyncio.sleep(0.05)


async def _outage(outage_s: float, redis: RedisServer, pavilion_app: Any,
                  **overrides: Any) -> None:
    a, b = await _nodes(redis, pavilion_app, **overrides)
    if overrides:  # the long outage outlasts every timer of the nodes' state three times
        assert outage_s >= 3 * max(_longest_ttl_s(a), _longest_ttl_s(b))
    a1, a2, b1, b2 = (await _join(a, "a1"), await _join(a, "a2"),
                      await _join(b, "b1"), await _join(b, "b2"))
    members = [a1, a2, b1, b2]
    try:
        await _chat_through(outage_s, redis, (a, b), members)
    finally:
        for client in members:
            await client.close()


async def _chat_through(outage_s: float, redis: RedisServer, nodes: tuple[RunningApp, RunningApp],
                        members: list[RtcClient]) -> None:
    (a, b), (a1, a2, b1, b2) = nodes, members
    pairs = [(a1, "a1"), (b1, "b1"), (a2, "a2"), (b2, "b2")]
    senders = [Sender(c, w, ROOM, EVERY_S) for c, w in pairs]
    try:
        await asyncio.sleep(1.0)
        assert redis.command(b"SAVE").startswith(b"+OK")
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(outage_s)
        during = {s.who: list(s.journaled) for s in senders}
        # Local chat went on: each node's members have what their own node's senders kept
        # (the last acknowledged ones may still be in their batch frame: a short wait).
        for member, mates in ((a2, "a1"), (a1, "a2"), (b2, "b1"), (b1, "b2")):
            await _until_seen(member, set(during[mates]), f"{mates}'s journaled chat")
        await asyncio.to_thread(redis.start)
        back = time.monotonic()
        chat_ab, chat_ba, (seen_on_a, lost_a), (seen_on_b, lost_b) = await asyncio.gather(
            _cross_node_chat(a1, b2, back), _cross_node_chat(b1, a2, back),
            _cross_node_presence(b, "late-b", a1, back),
            _cross_node_presence(a, "late-a", b1, back))
        print(f"\n{outage_s:.0f} s outage: journaled "
              f"{sum(len(v) for v in during.values())} while Redis was down; after Redis "
              f"returned cross-node chat A->B {chat_ab:.2f} s, B->A {chat_ba:.2f} s, presence "
              f"B->A {seen_on_a:.2f} s, A->B {seen_on_b:.2f} s (joins unseen before: "
              f"{lost_a}, {lost_b})")
        assert max(chat_ab, chat_ba, seen_on_a, seen_on_b) < BACK_WITHIN_S
        await asyncio.sleep(1.0)
    finally:
        for sender in senders:
            await sender.stop()
    acked = {i for s in senders for i in s.acked}
    await _delivered(members, acked, within=15)
    assert sum((s.refused for s in senders), Counter()) == Counter(), "nothing refused"
    assert all(during[s.who] for s in senders), "every sender chatted during the outage"
    for member in members:
        got = _ids(member)
        assert acked <= set(got), f"missing {sorted(acked - set(got))[:5]}"
        assert [i for i, n in Counter(got).items() if n > 1] == []  # exactly once
        for sender in senders:  # each sender's order kept
            assert [i for i in got if i in set(sender.acked)] == sender.acked
    print(f"acknowledged {len(acked)}, each delivered once to each of {len(members)} members")


async def test_chat_sent_during_a_5_s_redis_outage_is_kept_and_delivered_once(
        redis_factory: Callable[[], RedisServer], pavilion_app: Any) -> None:
    await _outage(5.0, redis_factory(), pavilion_app)


@pytest.mark.slow
async def test_chat_sent_during_a_redis_outage_longer_than_every_ttl_is_kept_and_delivered_once(
        redis_factory: Callable[[], RedisServer], pavilion_app: Any) -> None:
    """Issue 13's 70 s outage on a shorter timeline (the module's docstring): 24 s, three times
    the longest timer of the nodes' state in Redis (presence 6 s here, leases 8 s)."""
    await _outage(LONG_OUTAGE_S, redis_factory(), pavilion_app,
                  cluster={"presence_ttl_s": LONG_PRESENCE_TTL_S})


async def test_the_rules_still_hold_on_what_the_node_holds_during_an_outage(
        redis_factory: Callable[[], RedisServer], pavilion_app: Any) -> None:
    """A mute made on another node before the outage is kept on the muted person's node (its
    copy, over the Bus), so their chat is refused ``muted`` while Redis is down; the rate limit
    holds; a moderator's deletion is refused ``store_unavailable`` (it needs the Store)."""
    redis = redis_factory()
    a, b = await _nodes(redis, pavilion_app)
    moderator = await RtcClient.connect(a, token("mod", ROOM, HOST))
    await moderator.ok("join", {"room": ROOM})
    muted, talker = await _join(b, "quiet"), await _join(b, "talker")
    try:
        await moderator.ok("track.mute", {"room": ROOM, "identity": "quiet", "muted": True})
        sent = await talker.ok("chat.send", {"room": ROOM, "text": "before"})
        await asyncio.sleep(0.5)  # the Bus message reaches node B
        await asyncio.to_thread(redis.stop)
        refused = await muted.call("chat.send", {"room": ROOM, "text": "let me"})
        assert (refused["ok"], refused["error"]["code"]) == (False, "muted")
        codes: Counter[str] = Counter()
        for n in range(15):  # burst 10, 2/s: the node's own buckets still count
            reply = await talker.call("chat.send", {"room": ROOM, "text": f"t{n}"})
            codes["ok" if reply["ok"] else reply["error"]["code"]] += 1
            if reply["ok"]:
                assert reply["journaled"] is True
        assert codes["rate_limited"] >= 3 and codes["ok"] >= 1, codes
        deleted = await moderator.call("chat.delete", {"room": ROOM,
                                                       "message": sent["message"]["id"]})
        assert (deleted["ok"], deleted["error"]["code"]) == (False, "store_unavailable")
        await asyncio.to_thread(redis.start)
    finally:
        for client in (moderator, muted, talker):
            await client.close()
