"""Two real nodes on one real redis-server: twenty buyers race for one slot through both nodes'
HTTP APIs; and the meeting's server events reach real Socket.IO clients (reminder, warning,
room.closed), from whichever node's agenda claims the step."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import aiohttp
import pytest

from rooms.room import RoomKind
from rooms.trade.service import Caller
from tests.fixtures.pavilion import RunningApp
from tests.meetings.api import PROFILE
from tests.meetings.flow import Node, link_token
from tests.signaling.rtc_client import RtcClient
from web.keys import SETTINGS_KEY


def token_of(who: str) -> str:
    return link_token(who, exhibitor=who == "faw")


async def post(http: aiohttp.ClientSession, url: str, body: Any, who: str) -> tuple[int, Any]:
    async with http.post(url, json=body,
                         headers={"Authorization": "Bearer " + token_of(who)}) as response:
        return response.status, await response.json()


async def publish_soon(node: Node, http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.put(f"{node.url}/api/meetings/exhibitors/faw", json=PROFILE,
                        headers={"Authorization": "Bearer " + token_of("faw")}) as r:
        assert r.status == 200
    start = (math.floor(time.time() / 60) + 2) * 60
    status, made = await post(http, f"{node.url}/api/meetings/exhibitors/faw/slots", {"slots": [
        {"starts_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)), "length_min": 15,
         "languages": ["en"]}]}, "faw")
    assert status == 201, made
    return made["slots"][0]  # type: ignore[no-any-return]


@pytest.mark.redis
async def test_twenty_buyers_on_two_nodes_get_one_request(meetings_node: Any,
                                                         redis_url: str) -> None:
    nodes = [await meetings_node(redis_url=redis_url, node_id=f"node-{n}") for n in "ab"]
    async with aiohttp.ClientSession() as http:
        slot = await publish_soon(nodes[0], http)
        outcomes = await asyncio.gather(*(
            post(http, f"{nodes[n % 2].url}/api/meetings/requests", {"slot_id": slot["id"]},
                 f"buyer-{n}") for n in range(20)))
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] + [409] * 19
    assert {body["error"]["code"] for status, body in outcomes if status == 409} == {"slot_taken"}
    held = await nodes[1].bookings.store.list_requests(exhibitor="faw")
    assert len(held) == 1 and held[0].state.value == "pending"


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def test_reminder_warning_and_end_reach_socket_clients(
        meetings_node: Any, request: pytest.FixtureRequest, backend: str) -> None:
    url = request.getfixturevalue("redis_url") if backend == "redis" else None
    node = await meetings_node(redis_url=url, node_id="node-a")
    async with aiohttp.ClientSession() as http:
        slot = await publish_soon(node, http)
        status, made = await post(http, f"{node.url}/api/meetings/requests",
                                  {"slot_id": slot["id"]}, "kim")
        assert status == 201
        status, accepted = await post(
            http, f"{node.url}/api/meetings/requests/{made['id']}/accept", {}, "faw")
        assert status == 200, accepted
    meeting = await node.bookings.store.get_request(made["id"])
    assert meeting is not None
    node.clock.jump_to(time.time())  # the join window is open in real time and meetings' time
    links = {who: await node.bookings.join_link(_caller(who), meeting.id) for who in ("faw", "kim")}
    room = await node.bookings.rooms.store.get_room(meeting.room_id)
    assert room is not None and room.kind is RoomKind.MEETING and room.exhibitor == "faw"
    running = _running(node)
    host = await RtcClient.connect(running, links["faw"].token)
    guest = await RtcClient.connect(running, links["kim"].token)
    await host.ok("join", {"room": meeting.room_id})
    waiting = await guest.ok("join", {"room": meeting.room_id})
    assert waiting["waiting"] is True
    node.clock.jump_to(meeting.starts_at.timestamp() - 300)
    await node.tick()
    reminder = await guest.wait_for("meeting.reminder")
    assert reminder["data"]["request_id"] == meeting.id
    await host.wait_for("meeting.reminder")
    await host.ok("waiting.admit", {"room": meeting.room_id, "identity": "kim"})
    await guest.wait_for("waiting.admitted")
    close_at = meeting.ends_at.timestamp() + node.bookings.policy.grace_s
    node.clock.jump_to(close_at - 60)
    await node.tick()
    warning = await guest.wait_for("meeting.ending")
    assert warning["data"]["closes_at"] == close_at
    node.clock.jump_to(close_at)
    await node.tick()
    closed = await guest.wait_for("room.closed")
    assert closed["room_id"] == meeting.room_id
    assert await node.bookings.rooms.store.list_participants(meeting.room_id) == []
    again = await guest.call("chat.send", {"room": meeting.room_id, "text": "still here?"})
    assert again["ok"] is False, "the room's sessions were ended on the server too"
    view = await node.bookings.view(_caller("kim"), meeting.id)
    assert view.attendance == "both_joined"
    await host.close()
    await guest.close()


def _caller(identity: str) -> Caller:
    return Caller(identity, identity.title(), exhibits=identity == "faw")


def _running(node: Node) -> RunningApp:
    return RunningApp(node.url, node.app, node.app[SETTINGS_KEY])
