"""Two in-process nodes on one real redis-server and a live forum made through the admin API:
the set-up of the Redis-outage tests (test_redis_outage, test_chat_during_outage,
test_presence_sync), each with a room of its own, and the member who keeps chatting through it."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp

from rooms.lifecycle import cancel_and_wait
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.redis_server import RedisServer
from tests.signaling.rtc_client import RtcClient, token

API_KEY = "admin-key-0123456789abcdef0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {API_KEY}"}
BACK_WITHIN_S = 5.0  # issue 13: cross-node chat and presence back within 5 s of Redis


async def two_nodes(redis: RedisServer, pavilion_app: Any, room: str,
                    **overrides: Any) -> tuple[RunningApp, RunningApp]:
    """Nodes A and B on ``redis`` (with ``overrides`` to their settings); ``room`` (a live
    forum) created through A's admin API."""
    a = await pavilion_app(redis_url=redis.url, node_id="node-a", api_key=API_KEY, **overrides)
    b = await pavilion_app(redis_url=redis.url, node_id="node-b", api_key=API_KEY, **overrides)
    body = {"id": room, "kind": "forum", "pavilion": "automobile", "exhibitor": "ev-works",
            "title": {"en": room}, "state": "live"}
    async with aiohttp.ClientSession() as http, http.post(
            f"{a.url}/api/admin/rooms", json=body, headers=ADMIN) as response:
        assert response.status == 201, await response.text()
    return a, b


async def member(node: RunningApp, who: str, room: str) -> RtcClient:
    """``who`` connected to ``node`` and joined to ``room``; disconnected again when the join
    is refused (a caller retrying through an outage left one open connection per refusal, and
    the node's clean-up then waited ~10 s for them)."""
    client = await RtcClient.connect(node, token(who, room))
    try:
        await client.ok("join", {"room": room})
    except BaseException:
        await client.close()
        raise
    return client


class Sender:
    """One member posting to ``room`` every ``every_s``: the ids acknowledged (and which of them
    were journaled), and the refusals by code."""

    def __init__(self, client: RtcClient, who: str, room: str, every_s: float) -> None:
        self.client, self.who, self.room, self.every_s = client, who, room, every_s
        self.acked: list[str] = []
        self.journaled: list[str] = []
        self.refused: Counter[str] = Counter()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        n = 0
        while True:
            n += 1
            try:
                reply = await self.client.call(
                    "chat.send", {"room": self.room, "text": f"{self.who}:{n}"}, within=5)
            except TimeoutError:
                self.refused["timeout"] += 1
            else:
                if reply["ok"]:
                    self.acked.append(str(reply["message"]["id"]))
                    if reply["journaled"]:
                        self.journaled.append(self.acked[-1])
                else:
                    self.refused[str(reply["error"]["code"])] += 1
            await asyncio.sleep(self.every_s)

    async def stop(self) -> None:
        # a cancel landing as the call's own timeout fires comes out as TimeoutError, which
        # the loop counts and goes on (Python 3.11): cancel until it is really done
        await cancel_and_wait(self._task)
