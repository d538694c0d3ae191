"""A node with ``redis_url`` closes every Redis connection it opened when it shuts down,
including python-socketio's ``AsyncRedisManager`` ones (its listener and its publish client,
which python-socketio itself leaves open: web/rtc_fanout.py ``RedisFanout.aclose``)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from redis import asyncio as aioredis

from rooms.room import RoomKind
from tests.fixtures.pavilion import RunningApp, make_settings
from tests.signaling.rtc_client import HOST, RtcClient, make_room, token
from web.app import create_app

pytestmark = pytest.mark.redis


async def _clients(redis: aioredis.Redis) -> int:
    """Connections the redis-server holds, less this one."""
    return len(await redis.client_list()) - 1


async def test_shutdown_closes_the_socketio_redis_connections(redis_url: str) -> None:
    checker = aioredis.Redis.from_url(redis_url)
    try:
        before = await _clients(checker)
        settings = make_settings(redis_url=redis_url)
        app = create_app(settings)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", settings.port).start()
        running = RunningApp(f"http://127.0.0.1:{settings.port}", app, settings)
        await make_room(running, "show", RoomKind.BROADCAST, exhibitor="host")
        host = await RtcClient.connect(running, token("host", "show", HOST))
        await host.ok("join", {"room": "show"})
        await host.ok("chat.send", {"room": "show", "text": "published through Redis"})
        await host.wait_for("chat.message")  # came back through the manager's listener
        assert await _clients(checker) > before + 1  # the store's, the manager's two at least
        await host.close()
        await runner.cleanup()
        for _ in range(50):  # the server notices closed sockets on its own schedule
            if await _clients(checker) == before:
                break
            await asyncio.sleep(0.05)
        assert await _clients(checker) == before
    finally:
        await checker.aclose()
