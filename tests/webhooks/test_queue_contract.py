"""One contract for the webhook queue: in memory, and in Redis Streams on a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from rooms.webhooks.event import WebhookEvent
from rooms.webhooks.memory_queue import MemoryWebhookQueue
from rooms.webhooks.queue import WebhookQueue
from rooms.webhooks.redis_queue import RedisWebhookQueue

LEASE_S = 0.3


@pytest.fixture(params=["memory", "redis"])
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[WebhookQueue]:
    if request.param == "memory":
        yield MemoryWebhookQueue(lease_s=LEASE_S, dead_max=3)
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
    yield RedisWebhookQueue(redis, lease_s=LEASE_S, dead_max=3)
    await redis.aclose()


def event(n: int, room: str = "r1") -> WebhookEvent:
    return WebhookEvent.make("participant_joined", {"n": n}, room=room, now=1_000.0 + n)


async def test_taken_in_order_once(queue: WebhookQueue) -> None:
    for n in range(5):
        await queue.push("t1", event(n))
    first = await queue.take("t1", "a", 3)
    rest = await queue.take("t1", "a", 10)
    bodies = [t.event.body for t in first + rest]
    assert [b.endswith(f'"n":{n}}}') for n, b in enumerate(bodies)] == [True] * 5
    assert await queue.take("t1", "a", 10) == []
    assert (await queue.stats("t1")).pending == 5


async def test_ack_delivers_and_other_targets_apart(queue: WebhookQueue) -> None:
    await queue.push("t1", event(1))
    await queue.push("t2", event(2))
    [taken] = await queue.take("t1", "a", 10)
    await queue.ack(taken)
    stats = await queue.stats("t1")
    assert (stats.pending, stats.delivered, stats.failed) == (0, 1, 0)
    assert (await queue.stats("t2")).pending == 1


async def test_one_holder_and_takeover_claims_unsettled(queue: WebhookQueue) -> None:
    for n in range(3):
        await queue.push("t1", event(n))
    held = await queue.take("t1", "node-a", 2)
    assert len(held) == 2
    assert await queue.take("t1", "node-b", 10) == []  # node-a holds the target
    await queue.ack(held[0])
    await asyncio.sleep(LEASE_S * 1.5)  # node-a died: its lease lapses
    claimed = await queue.take("t1", "node-b", 10)
    assert [t.event.id for t in claimed] == [held[1].event.id, *(
        t.event.id for t in claimed[1:])]
    assert len(claimed) == 2  # node-a's unsettled one first, then the untaken one
    assert await queue.take("t1", "node-a", 10) == []  # node-b holds it now


async def test_release_hands_over_at_once(queue: WebhookQueue) -> None:
    await queue.push("t1", event(1))
    [taken] = await queue.take("t1", "a", 10)
    await queue.release("t1", "a")
    [again] = await queue.take("t1", "b", 10)
    assert again.event == taken.event  # same id and body: a duplicate the receiver can spot


async def test_dead_letters_listed_replayed_dropped(queue: WebhookQueue) -> None:
    for n in range(2):
        await queue.push("t1", event(n))
    first, second = await queue.take("t1", "a", 10)
    await queue.bury(first, reason="http_500", attempts=7, now=5_000.0)
    await queue.bury(second, reason="timeout", attempts=3, now=5_001.0)
    dead = await queue.dead()
    assert [(d.event.id, d.reason, d.attempts) for d in dead] == [
        (first.event.id, "http_500", 7), (second.event.id, "timeout", 3)]
    assert (await queue.stats("t1")).failed == 2 and (await queue.stats("t1")).pending == 0
    assert await queue.dead_ids() == [d.id for d in dead]
    assert [d.id for d in await queue.dead(1)] == [dead[0].id]  # the oldest, and no more
    assert await queue.revive(dead[0].id)
    assert not await queue.revive(dead[0].id)
    [back] = await queue.take("t1", "a", 10)
    assert back.event == first.event
    assert await queue.drop(dead[1].id) and not await queue.drop(dead[1].id)
    assert await queue.dead() == [] and (await queue.stats("t1")).failed == 0


async def test_dead_letters_capped_oldest_first(queue: WebhookQueue) -> None:
    for n in range(5):
        await queue.push("t1", event(n))
    for n, taken in enumerate(await queue.take("t1", "a", 10)):
        await queue.bury(taken, reason="http_500", attempts=1, now=6_000.0 + n)
    kept = [d.event.body for d in await queue.dead()]
    assert len(kept) == 3 and kept[0].endswith('"n":2}')
    await queue.push("t2", event(9))
    [other] = await queue.take("t2", "a", 10)
    await queue.bury(other, reason="timeout", attempts=1, now=7_000.0)
    assert len(await queue.dead()) == 4  # the cap is per target
