"""The Bus contract on MemoryBus and RedisBus, and surviving a Redis restart (issue 4, item 7)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from rooms.bus import Bus, BusMessage, Inbox, node_topic, room_topic
from rooms.errors import InvalidInput, StoreUnavailable
from rooms.pavilion import Pavilion
from rooms.redis_bus import RedisBus
from rooms.redis_store import RedisStore, connect
from rooms.room import Room, RoomKind
from rooms.text import LocalizedText
from tests.fixtures.redis_server import RedisServer
from tests.rooms.harness import Harness

WAIT_S = 10  # generous: only a failure ever waits this long


async def next_message(subscription: Inbox) -> BusMessage:
    return await asyncio.wait_for(subscription.get(), WAIT_S)


async def test_bus_suppresses_the_echo_of_a_nodes_own_messages(harness: Harness) -> None:
    bus_a, bus_b = await harness.bus("node-a"), await harness.bus("node-b")
    sub_a = await bus_a.subscribe(room_topic("r1"))
    sub_b = await bus_b.subscribe(room_topic("r1"))
    await bus_a.publish(room_topic("r1"), "pinned", {"product": "p1"})
    got = await next_message(sub_b)
    assert (got.topic, got.kind, dict(got.payload), got.origin) == (
        "room:r1", "pinned", {"product": "p1"}, "node-a")
    await bus_b.publish(room_topic("r1"), "reply", {"n": 2})
    # Had A's own message come back to A, it would be first in A's queue (it was sent earlier).
    first = await next_message(sub_a)
    assert (first.kind, first.origin) == ("reply", "node-b")
    assert sub_a.get_nowait() is None and sub_b.get_nowait() is None


async def test_bus_delivers_by_topic_only(harness: Harness) -> None:
    bus_a, bus_b = await harness.bus("node-a"), await harness.bus("node-b")
    to_node = await bus_b.subscribe(node_topic("node-b"))
    to_room = await bus_b.subscribe(room_topic("r2"), room_topic("r3"))
    await bus_a.publish(room_topic("r1"), "ignored", {})
    await bus_a.publish(node_topic("node-b"), "kick", {"identity": "x"})
    await bus_a.publish(room_topic("r3"), "chat", {})
    assert (await next_message(to_node)).kind == "kick"
    assert (await next_message(to_room)).kind == "chat"
    assert to_node.get_nowait() is None and to_room.get_nowait() is None
    await to_room.aclose()
    await bus_a.publish(room_topic("r3"), "after-close", {})
    await bus_a.publish(node_topic("node-b"), "marker", {})
    assert (await next_message(to_node)).kind == "marker"
    assert to_room.get_nowait() is None


@pytest.mark.redis
async def test_redis_bus_unsubscribes_channels_nobody_wants(redis_url: str) -> None:
    bus = RedisBus(connect(redis_url), "node-a", owns_client=True)
    probe = connect(redis_url)
    try:
        await asyncio.wait_for(bus.connected.wait(), WAIT_S)
        first = await bus.subscribe(room_topic("r1"), room_topic("r2"))
        second = await bus.subscribe(room_topic("r2"))
        assert await channels(probe) == {"pv:bus:node:node-a", "pv:bus:room:r1", "pv:bus:room:r2"}
        await first.aclose()
        for _ in range(WAIT_S * 10):
            if await channels(probe) == {"pv:bus:node:node-a", "pv:bus:room:r2"}:
                break
            await asyncio.sleep(0.1)
        assert await channels(probe) == {"pv:bus:node:node-a", "pv:bus:room:r2"}
        await second.aclose()
    finally:
        await bus.aclose()
        await probe.aclose()


async def channels(probe: Redis) -> set[str]:
    return {str(c) for c in await probe.pubsub_channels("pv:bus:*")}


async def test_slow_subscriber_keeps_newest_and_counts_drops(harness: Harness) -> None:
    bus_a, bus_b = await harness.bus("node-a"), await harness.bus("node-b")
    slow = await bus_b.subscribe(room_topic("r1"), maxsize=2)
    for i in range(5):
        await bus_a.publish(room_topic("r1"), "n", {"i": i})
    for _ in range(WAIT_S * 20):
        if slow.dropped == 3:
            break
        await asyncio.sleep(0.05)
    assert slow.dropped == 3
    assert [(await next_message(slow)).payload["i"] for _ in range(2)] == [3, 4]


async def test_bad_topics_are_refused(harness: Harness) -> None:
    bus = await harness.bus("node-a")
    for topic in ("chat", "room:", "room:has space", "user:x"):
        with pytest.raises(InvalidInput):
            await bus.publish(topic, "k", {})
        with pytest.raises(InvalidInput):
            await bus.subscribe(topic)


def a_room(room_id: str) -> Room:
    return Room(id=room_id, kind=RoomKind.FORUM, pavilion=Pavilion.REGIONS,
                title=LocalizedText({"en": "Roundtable"}))


async def wait_until_up(store: RedisStore) -> None:
    for _ in range(WAIT_S * 10):
        try:
            await store.ping()
            return
        except StoreUnavailable:
            await asyncio.sleep(0.1)
    await store.ping()


async def publish_until_heard(bus: Bus, sub: Inbox) -> BusMessage:
    """Pub/sub is at most once: until the reader has resubscribed, messages are lost."""
    for _ in range(WAIT_S * 5):
        await bus.publish(room_topic("r1"), "back", {})
        try:
            return await asyncio.wait_for(sub.get(), 0.2)
        except TimeoutError:
            continue
    raise AssertionError("the bus never came back")


@pytest.mark.redis
async def test_redis_restarted_mid_test_store_and_bus_reconnect(
    redis_factory: Callable[[], RedisServer],
) -> None:
    server = redis_factory()
    store = RedisStore(connect(server.url))
    bus_a, bus_b = RedisBus(connect(server.url), "node-a", owns_client=True), RedisBus(
        connect(server.url), "node-b", owns_client=True)
    try:
        await asyncio.wait_for(bus_b.connected.wait(), WAIT_S)
        sub = await bus_b.subscribe(room_topic("r1"))
        assert await store.create_room(a_room("before"))
        server.stop()
        with pytest.raises(StoreUnavailable) as down:
            await store.ping()
        assert down.value.code == "store_unavailable"
        with pytest.raises(StoreUnavailable):
            await store.create_room(a_room("during"))
        with pytest.raises(StoreUnavailable):
            await bus_a.publish(room_topic("r1"), "lost", {})
        server.start()  # an empty server: nothing was persisted
        await wait_until_up(store)
        assert await store.create_room(a_room("after"))
        assert [r.id for r in await store.list_rooms()] == ["after"]
        assert (await publish_until_heard(bus_a, sub)).kind == "back"
    finally:
        for closer in (bus_a, bus_b, store):
            await closer.aclose()


async def test_bus_message_encoding_round_trips_and_refuses_junk() -> None:
    message = BusMessage("room:r1", "chat", {"text": "你好 <b>"}, "node-a")
    assert BusMessage.decode(message.encode()) == message
    for junk in (b"[]", b'{"payload": 1}', b"not json"):
        with pytest.raises(ValueError):
            BusMessage.decode(junk)
