"""Trade meetings make their webhooks once per change, from the booking service (memory and a
real redis-server): requested, accepted, the buyer's no-show, a declined request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from rooms.clock import FakeClock
from rooms.factory import open_backend
from rooms.trade.backend import open_bookings
from rooms.trade.request import Action
from rooms.trade.service import BookingPolicy
from rooms.webhooks.queue import target_key
from tests.meetings.api import PROFILE, settings
from tests.meetings.builders import NOW
from tests.meetings.test_agenda import FAW, KIM, LI, World, _iso, booked, enter

URL = "https://crm.example/hook"


@pytest.fixture(params=["memory", "redis"])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    url = None if request.param == "memory" else request.getfixturevalue("redis_url")
    cfg = settings(redis_url=url, webhooks=[{"url": URL, "secret": "whsec-0123456789abcdef"}])
    clock = FakeClock(NOW)
    async with open_backend(cfg, clock=clock) as backend, open_bookings(
            cfg, backend, clock=clock, run_agenda=False,
            policy=BookingPolicy(request_ttl_s=3600)) as bookings:
        await bookings.service.put_profile(FAW, {"id": "faw", **PROFILE})
        yield World(bookings.service, bookings.agenda, clock, None)  # type: ignore[arg-type]


async def _queued(world: World) -> list[dict[str, object]]:
    hooks = world.service.rooms.hooks
    await hooks.flush()
    taken = await hooks.queue.take(target_key(URL), "reader", 100)
    return [json.loads(t.event.body) for t in taken]


async def test_request_accept_and_no_show(world: World) -> None:
    request_id, start = await booked(world)
    await enter(world, LI, request_id, start)
    await world.tick(start + 30 * 60)
    got = [g for g in await _queued(world) if str(g["event"]).startswith("meeting_")]
    assert [g["event"] for g in got] == ["meeting_requested", "meeting_accepted",
                                         "meeting_no_show"]
    assert {g["room"] for g in got} == {f"mtg-{request_id}"}
    meeting = got[2]["meeting"]
    assert isinstance(meeting, dict)
    assert (meeting["request_id"], meeting["buyer"], meeting["attendance"]) == (
        request_id, "kim", "buyer_no_show")


async def test_a_declined_request(world: World) -> None:
    start = (world.clock.now() // 3600 + 3) * 3600
    [slot] = await world.service.publish(LI, "faw", [{
        "starts_at": _iso(start), "length_min": 15, "languages": ["en"]}])
    made = await world.service.request(KIM, slot.id, message="hi")
    await world.service.act(FAW, made.id, Action.DECLINE, reason="busy")
    got = await _queued(world)
    assert [g["event"] for g in got] == ["meeting_requested", "meeting_declined"]
