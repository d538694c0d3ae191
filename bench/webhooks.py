"""Webhook delivery cost: N events over R rooms from one node to a local receiver, memory queue
against Redis Streams, in one process run (so the ratio survives a noisy machine).

    .venv/bin/python -m bench.webhooks [--events 2000] [--rooms 50] [--redis redis://...]

Prints, per queue: wall seconds until the receiver acknowledged every event, events per second,
the process's CPU per event (the receiver's aiohttp server included: it runs in this process)
and the longest event-loop gap a 5 ms ticker saw. Without ``--redis`` only the memory row.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import web

from tests.fixtures.pavilion import make_settings
from tests.webhooks.receiver import Receiver
from web.app import create_app
from web.keys import BACKEND_KEY


async def _ticker(stop: asyncio.Event) -> float:
    worst, last = 0.0, time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        worst, last = max(worst, now - last - 0.005), now
    return worst


async def run(events: int, rooms: int, redis_url: str | None) -> str:
    receiver = await Receiver().start()
    extra = {"redis_url": redis_url} if redis_url else {}
    settings = make_settings(webhooks=[{"url": receiver.url, "secret": "whsec-0123456789abcdef"}],
                             webhooks_delivery={"poll_s": 0.05}, **extra)
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.port).start()
    hooks = runner.app[BACKEND_KEY].service.hooks
    stop = asyncio.Event()
    gaps = asyncio.create_task(_ticker(stop))
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(events):  # room actions emit one or two events each, between other work
        hooks.emit("moderation", {"n": n}, room=f"room-{n % rooms}")
        if n % 10 == 9:
            await asyncio.sleep(0)
    await receiver.wait_for(events, timeout_s=600)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stop.set()
    worst = await gaps
    await runner.cleanup()
    await receiver.stop()
    name = "redis" if redis_url else "memory"
    return (f"| {name:6} | {wall:7.2f} | {events / wall:6.0f} | {cpu / events * 1e6:7.0f} "
            f"| {worst * 1000:7.1f} |")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()
    print("| queue  | wall s  | ev/s   | CPU µs  | gap ms  |")
    print("|---|---|---|---|---|")
    for url in (None, args.redis) if args.redis else (None,):
        print(await run(args.events, args.rooms, url))


if __name__ == "__main__":
    asyncio.run(main())
