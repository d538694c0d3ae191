"""The HLS door through a Redis outage (issue 16 §3, DESIGN.md §5): a room the node read
recently keeps serving its viewers; a room it knows nothing about is 503 + Retry-After, never
a 500; and the door serves again once Redis is back."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import aiohttp
import pytest

from rooms.errors import StoreUnavailable
from tests.fixtures.redis_server import RedisServer
from tests.hls.door import Start, node_with, put_rooms, room
from tests.hls.scripted_feed import ScriptedFeed
from tests.pages.helpers import until


@pytest.mark.redis
async def test_redis_down_keeps_known_rooms_and_says_503_for_others(
        pavilion_app: Start, redis_factory: Callable[[], RedisServer]) -> None:
    redis = redis_factory()
    app = await node_with(pavilion_app, ScriptedFeed("show", segments=1),
                          ScriptedFeed("other", segments=1), redis_url=redis.url)
    await put_rooms(app, room("show"), room("other"))
    async with aiohttp.ClientSession() as http:
        async with http.get(app.url + "/hls/show/index.m3u8") as before:
            assert before.status == 200
        redis.kill()
        async with http.get(app.url + "/hls/show/s0.m4s") as known:
            assert known.status == 200, "a room read within the stale bound keeps playing"
        async with http.get(app.url + "/hls/other/index.m3u8") as unknown:
            text = await unknown.text()
            assert unknown.status == 503, text
            assert unknown.headers["Retry-After"] == "5" and text.startswith("store_unavailable")
        redis.start()  # empty: the organiser's rooms are written again

        async def back() -> bool:
            with contextlib.suppress(StoreUnavailable):
                await put_rooms(app, room("other"))
            async with http.get(app.url + "/hls/other/index.m3u8") as again:
                return again.status == 200

        await until(back, "the door to read rooms again", tries=150)
