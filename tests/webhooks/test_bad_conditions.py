"""Webhooks when things go wrong: Redis gone at enqueue time, receivers that are slow, fail or
answer with a huge body."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from tests.fixtures.ports import free_port
from tests.fixtures.redis_server import RedisServer
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import Start, admin, emit, hooked
from web.keys import BACKEND_KEY


async def test_redis_down_at_enqueue_spools_then_delivers(
        pavilion_app: Start, redis_factory: Callable[[], RedisServer]) -> None:
    redis = redis_factory()
    receiver = await Receiver().start()
    try:
        node = await pavilion_app(redis_url=redis.url, **hooked(receiver))
        emit(node, "room-1", 0)
        await receiver.wait_for(1)
        redis.kill()
        hooks = node.app[BACKEND_KEY].service.hooks
        for n in range(1, 6):
            emit(node, "room-1", n)  # the room action's side: never raises, never waits
        assert hooks.spooled >= 1  # held in memory while the queue is unreachable
        await asyncio.sleep(0.5)
        redis.start()  # same port, empty: the stream and its group are made again
        await receiver.wait_for(6, timeout_s=30)
        assert [g["n"] for g in receiver.got] == list(range(6))
        assert hooks.dropped == 0
    finally:
        await receiver.stop()


async def _huge(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    chunk = b"x" * 65_536
    for _ in range(512):  # 32 MiB the worker never reads
        await response.write(chunk)
    return response


async def _loop_gaps(stop: asyncio.Event) -> float:
    """The longest time the event loop went without running this task (10 ms sleeps)."""
    worst, last = 0.0, time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        worst, last = max(worst, now - last - 0.01), now
    return worst


async def test_bad_receivers_do_not_stall_the_loop(pavilion_app: Start) -> None:
    slow, failing = Receiver(delay_s=5.0), Receiver(status=500)
    await slow.start()
    await failing.start()
    huge = web.Application()
    huge.router.add_post("/hook", _huge)
    runner = web.AppRunner(huge, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    good = await Receiver().start()
    secret = "whsec-test-0123456789abcdef"
    targets = [{"url": url, "secret": secret} for url in (
        slow.url, failing.url, f"http://127.0.0.1:{port}/hook", good.url)]
    try:
        node = await pavilion_app(webhooks=targets, webhooks_delivery={
            "backoff_s": 0.05, "backoff_max_s": 0.2, "poll_s": 0.05, "timeout_s": 0.5})
        stop = asyncio.Event()
        gaps = asyncio.create_task(_loop_gaps(stop))
        for n in range(20):
            emit(node, f"room-{n % 4}", n)
        await good.wait_for(20)
        await failing.until(lambda: failing.attempts >= 20)
        await slow.until(lambda: slow.attempts >= 2)
        stop.set()
        # a generous bound: a stalled loop (a read of 32 MiB, a blocking wait) shows as seconds
        assert await gaps < 0.5
        assert sorted(g["n"] for g in good.got) == list(range(20))
    finally:
        for receiver in (slow, failing, good):
            await receiver.stop()
        await runner.cleanup()


async def test_redis_gone_while_delivering_settles_when_back(pavilion_app: Start,
                                                             tmp_path: Path) -> None:
    """Delivered while Redis is away: acknowledged in the queue once it is back, not left
    pending until some other node takes the target over."""
    redis = RedisServer(tmp_path, extra=("--appendonly", "yes", "--appendfsync", "always"))
    redis.start()
    receiver = Receiver(delay_s=1.0)
    await receiver.start()
    try:
        node = await pavilion_app(redis_url=redis.url, **hooked(receiver))
        for n in range(3):
            emit(node, f"room-{n}", n)
        await receiver.until(lambda: receiver.attempts >= 3)
        redis.stop()  # a clean stop: the stream survives in the append-only file
        await receiver.wait_for(3)
        await asyncio.sleep(2.0)  # the acknowledgements fail meanwhile (redis-py's retries too)
        redis.start()
        for _ in range(300):
            [target] = (await admin(node, "GET", "/webhooks"))["targets"]
            if target["pending"] == 0:
                break
            await asyncio.sleep(0.05)
        assert (target["pending"], target["delivered"]) == (0, 3)
    finally:
        await receiver.stop()
        redis.stop()
