"""Issue 18 §2 follow-up (gap 5): a Redis outage while an organiser's console is open.

A node on a private real redis-server; the console (python-socketio) connected. Redis is
stopped (``SAVE`` first, as a restarted production Redis keeps its data): the console keeps
its one connection (the same Socket.IO session throughout), its snapshots say
``store_unavailable`` instead of figures; Redis is started again on the same port: within a
few seconds the snapshots carry the room again, on the same connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.room import RoomKind
from tests.console.console_client import NS, ConsoleClient
from tests.fixtures.redis_server import RedisServer
from tests.signaling.rtc_client import make_room

pytestmark = [pytest.mark.redis, pytest.mark.slow]
API_KEY = "console-outage-admin-key-0123456789abcd"
FAST = {"report_interval_s": 0.3}


def _has_room(snapshot: dict[str, Any]) -> bool:
    return any(r["id"] == "expo" for r in snapshot.get("rooms", []))


async def test_the_console_shows_the_outage_and_recovers_on_one_connection(
    redis_factory: Callable[[], RedisServer], pavilion_app: Callable[..., Awaitable[Any]],
) -> None:
    redis = redis_factory()
    node = await pavilion_app(redis_url=redis.url, demo=False, api_key=API_KEY, cluster=FAST)
    await make_room(node, "expo", RoomKind.BROADCAST, exhibitor="obs")
    console = await ConsoleClient.connect(node, {"api_key": API_KEY})
    await console.snapshot(_has_room)
    sid = console.sio.get_sid(NS)
    assert redis.command(b"SAVE").startswith(b"+OK")
    await asyncio.to_thread(redis.stop)
    down = await console.snapshot(lambda s: "error" in s, within=15)
    assert down["error"]["code"] == "store_unavailable"
    assert console.sio.connected and console.sio.get_sid(NS) == sid
    reply = await console.call("console.room", {"room": "expo"})  # asked: a clear refusal
    assert reply["ok"] is False and reply["error"]["code"] == "store_unavailable"

    await asyncio.to_thread(redis.start)
    await console.snapshot(_has_room, within=20)
    assert console.sio.connected and console.sio.get_sid(NS) == sid
    await console.close()
