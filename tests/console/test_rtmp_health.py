"""Issue 18 §2 follow-up (gap 3): an RTMP publisher (Debian's ffmpeg into a real node) is in the
room's health like a WHIP one: one publisher, its bitrate, a ``publish`` link in the detail
(no round trip: RTMP has no STUN consent checks)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET
from tests.fixtures.ports import free_port
from tests.rtmp.encoder import ZERO_LATENCY, ffmpeg_publish, stop
from web.keys import BACKEND_KEY

pytestmark = pytest.mark.slow
API_KEY = "rtmp-health-admin-key-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {API_KEY}"}


async def _until(http: aiohttp.ClientSession, path: str, ready: Callable[[Any], bool]) -> Any:
    async with asyncio.timeout(40):
        while True:
            async with http.get(path, headers=ADMIN) as response:
                assert response.status == 200, await response.text()
                data = await response.json()
            if ready(data):
                return data
            await asyncio.sleep(0.3)


def _expo(view: Any) -> dict[str, Any]:
    return next((r for r in view["rooms"] if r["id"] == "expo"), {})


async def test_an_rtmp_publisher_appears_with_its_bitrate(
    pavilion_app: Callable[..., Awaitable[Any]],
) -> None:
    node = await pavilion_app(demo=False, api_key=API_KEY, rtmp_port=free_port(),
                              cluster={"report_interval_s": 0.5})
    await node.app[BACKEND_KEY].store.create_room(
        Room(id="expo", kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
             title=LocalizedText({"en": "expo"}), state=RoomState.LIVE))
    key = mint(TEST_SECRET, identity="hall-camera", room="expo", grants=(Grant.PUBLISH,),
               ttl_s=600)
    url = f"rtmp://127.0.0.1:{node.settings.rtmp_port}/live/{key}"
    encoder = await ffmpeg_publish(url, tuning=ZERO_LATENCY)
    try:
        async with aiohttp.ClientSession(node.url) as http:
            view = await _until(http, "/api/admin/overview", lambda v: (
                (_expo(v).get("health") or {}).get("bitrate_bps", 0) > 10_000))
            health = _expo(view)["health"]
            assert health["publishers"] == 1 and health["bitrate_bps"] < 50_000_000
            assert health["quiet_s"] is not None and health["quiet_s"] < 5
            detail = await _until(http, "/api/admin/rooms/expo/health", lambda d: True)
            links = [x for p in detail["participants"] for x in p["links"]]
            assert [(x["identity"], x["direction"]) for x in links] == [
                ("hall-camera", "publish")]
            assert links[0]["bitrate_bps"] > 10_000 and links[0]["rtt_ms"] is None
    finally:
        await stop(encoder)
