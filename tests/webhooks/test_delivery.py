"""Webhooks end to end: real nodes (memory and Redis), a real receiver, the admin API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from rooms.room import RoomState
from rooms.webhooks.queue import target_key
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_signature import SECRET, documented_verify
from web.admin_api import ADMIN
from web.keys import BACKEND_KEY, HUB_KEY

AUTH = {"Authorization": f"Bearer {TEST_SECRET}"}
FAST = {"backoff_s": 0.05, "backoff_max_s": 0.2, "poll_s": 0.05, "lease_s": 1.0}
ROOM = {"id": "ev-launch", "kind": "broadcast", "pavilion": "automobile",
        "exhibitor": "ev-works", "title": {"en": "Launch"}, "state": "scheduled",
        "starts_at": "2026-09-01T10:00:00+08:00", "ends_at": "2026-09-01T11:00:00+08:00"}
Start = Callable[..., Awaitable[RunningApp]]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = await Receiver().start()
    yield made
    await made.stop()


def hooked(receiver: Receiver, **delivery: Any) -> dict[str, Any]:
    return {"webhooks": [{"url": receiver.url, "secret": SECRET}],
            "webhooks_delivery": {**FAST, **delivery}}


def emit(node: RunningApp, room: str, n: int) -> None:
    node.app[BACKEND_KEY].service.hooks.emit("moderation", {"n": n}, room=room)


async def admin(node: RunningApp, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(
            method, node.url + "/api/admin" + path, json=body, headers=AUTH) as response:
        assert response.status < 300, await response.text()
        return await response.json()


async def test_room_events_arrive_signed_and_in_order(pavilion_app: Start,
                                                      receiver: Receiver) -> None:
    node = await pavilion_app(**hooked(receiver))
    await admin(node, "POST", "/rooms", ROOM)
    service, hub = node.app[BACKEND_KEY].service, node.app[HUB_KEY]
    await hub.moderated([await service.set_state(ADMIN, "ev-launch", RoomState.LIVE)])
    await admin(node, "POST", "/rooms/ev-launch/lock", {"locked": True})
    await admin(node, "POST", "/rooms/ev-launch/close")
    await receiver.wait_for(3)
    assert receiver.names("ev-launch") == ["room_started", "moderation", "room_finished"]
    assert receiver.got[1]["action"] == "lock"
    assert receiver.got[0]["room_info"]["kind"] == "broadcast"
    verify = documented_verify()
    for body, headers in receiver.raw:
        assert verify(SECRET, body, headers["Pavilion-Signature"])
        assert headers["Pavilion-Webhook-Id"] in body.decode()
    assert len({g["id"] for g in receiver.got}) == 3


async def test_receiver_down_loses_nothing_and_keeps_room_order(
        pavilion_app: Start, receiver: Receiver, redis_url: str) -> None:
    receiver.status = 503  # "an hour" down, scaled: the backoff is 50 ms to 200 ms
    node = await pavilion_app(redis_url=redis_url, **hooked(receiver))
    for n in range(30):
        emit(node, f"room-{n % 3}", n)
    await receiver.until(lambda: receiver.attempts >= 10)
    receiver.status = 200
    await receiver.wait_for(30)
    for room in range(3):
        sent = [g["n"] for g in receiver.got if g["room"] == f"room-{room}"]
        assert sent == list(range(room, 30, 3))


async def test_restart_loses_nothing_and_duplicates_keep_their_id(
        pavilion_app: Start, receiver: Receiver, redis_url: str) -> None:
    receiver.status = 500
    first = await pavilion_app(redis_url=redis_url, node_id="node-a", **hooked(receiver))
    for n in range(10):
        emit(first, "room-1", n)
    await receiver.until(lambda: receiver.attempts >= 3)
    runner = first.app  # stop the node as SIGTERM would
    await runner.shutdown()
    await runner.cleanup()
    receiver.status = 200
    await pavilion_app(redis_url=redis_url, node_id="node-b", **hooked(receiver))
    await receiver.wait_for(10)
    assert [g["n"] for g in receiver.got] == list(range(10))


async def test_a_node_stopped_mid_delivery_leaves_a_duplicate_with_the_same_id(
        pavilion_app: Start, receiver: Receiver, redis_url: str) -> None:
    """At least once: the receiver got the request but the node stopped before the answer; the
    next node sends it again, with the same id (the receiver's key to drop the copy)."""
    receiver.delay_s = 30.0  # the first answer never comes back in time
    first = await pavilion_app(redis_url=redis_url, node_id="node-a", **hooked(receiver))
    emit(first, "room-1", 1)
    await receiver.until(lambda: receiver.attempts >= 1)
    await first.app.shutdown()
    await first.app.cleanup()
    receiver.delay_s = 0.0
    await pavilion_app(redis_url=redis_url, node_id="node-b", **hooked(receiver))
    await receiver.wait_for(1)
    assert len(receiver.arrived) == 2 and receiver.arrived[0] == receiver.arrived[1]
    assert receiver.got[0]["id"] == receiver.arrived[0]


async def test_two_nodes_deliver_each_event_once(pavilion_app: Start, receiver: Receiver,
                                                 redis_url: str) -> None:
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", **hooked(receiver))
    b = await pavilion_app(redis_url=redis_url, node_id="node-b", **hooked(receiver))
    for n in range(20):
        emit(a if n % 2 else b, f"room-{n % 4}", n)
    await receiver.wait_for(20)
    await asyncio.sleep(0.5)  # time for a duplicate to show up, if one were sent
    assert sorted(g["n"] for g in receiver.got) == list(range(20))


async def test_dead_letters_listed_and_replayed(pavilion_app: Start, receiver: Receiver,
                                                redis_url: str) -> None:
    receiver.status = 500
    node = await pavilion_app(redis_url=redis_url, **hooked(receiver, give_up_s=0.3))
    emit(node, "room-1", 1)
    emit(node, "room-2", 2)
    for _ in range(200):  # each look is a request; give up after 200
        if len((await admin(node, "GET", "/webhooks/dead"))["dead"]) == 2:
            break
        await asyncio.sleep(0.1)
    dead = (await admin(node, "GET", "/webhooks/dead"))["dead"]
    assert {d["payload"]["n"] for d in dead} == {1, 2}
    assert all(d["reason"] == "http_500" and d["attempts"] >= 1 for d in dead)
    [target] = (await admin(node, "GET", "/webhooks"))["targets"]
    assert (target["key"], target["failed"], target["pending"]) == (
        target_key(receiver.url), 2, 0)
    assert "secret" not in target
    receiver.status = 200
    await admin(node, "DELETE", f"/webhooks/dead/{dead[0]['id']}")
    replayed = await admin(node, "POST", "/webhooks/dead/replay")
    assert replayed["replayed"] == [dead[1]["id"]]
    await receiver.wait_for(1)
    assert receiver.got[0]["id"] == dead[1]["event_id"]
    async with aiohttp.ClientSession() as http, http.post(
            node.url + f"/api/admin/webhooks/dead/{dead[0]['id']}/replay",
            headers=AUTH) as gone:
        assert gone.status == 404
        assert (await gone.json())["error"]["code"] == "no_such_dead_letter"
    async with aiohttp.ClientSession() as http:
        async with http.get(node.url + "/api/admin/webhooks/dead") as anonymous:
            assert anonymous.status == 401
        async with http.get(node.url + "/api/admin/webhooks/dead?limit=0",
                            headers=AUTH) as bad:
            assert bad.status == 400
            assert (await bad.json())["error"]["code"] == "bad_limit"
        async with http.delete(node.url + "/api/admin/webhooks/dead/evt_nope.abc",
                               headers=AUTH) as unknown:
            assert unknown.status == 404
            assert (await unknown.json())["error"]["code"] == "no_such_dead_letter"


async def test_metrics_count_outcomes(pavilion_app: Start, receiver: Receiver) -> None:
    node = await pavilion_app(**hooked(receiver))
    emit(node, "room-1", 1)
    await receiver.wait_for(1)
    async with aiohttp.ClientSession() as http, http.get(node.url + "/metrics") as response:
        text = await response.text()
    assert 'pavilion_webhook_deliveries_total{result="ok"} 1.0' in text
    [target] = (await admin(node, "GET", "/webhooks"))["targets"]  # memory mode alike
    assert (target["delivered"], target["pending"], target["failed"]) == (1, 0, 0)
    for name in ("pavilion_webhook_pending", "pavilion_webhook_dead_letters",
                 "pavilion_webhook_delivery_seconds_bucket"):
        assert name in text
