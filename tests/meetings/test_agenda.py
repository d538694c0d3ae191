"""The meetings' clock: expiry, reminder, attendance, one-minute warning, the room's end, ratings.

Runs the real service over a real rooms backend (memory, or a real redis-server), with the
agenda ticked by hand on a fake clock; people join the meeting room through RoomService with the
tokens of their join links, exactly as the Socket.IO layer would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from rooms.clock import FakeClock
from rooms.events import RoomChanged
from rooms.factory import open_backend
from rooms.room import RoomState
from rooms.token import TokenError, verify
from rooms.trade.agenda import Agenda
from rooms.trade.backend import open_bookings
from rooms.trade.record import Notice
from rooms.trade.report import dashboard
from rooms.trade.request import Action, RequestState
from rooms.trade.service import BookingPolicy, BookingService, Caller
from tests.meetings.api import PROFILE, SECRET, settings
from tests.meetings.builders import NOW

FAW = Caller("faw", "Wang", exhibits=True)
LI = Caller("faw-li", "Li", exhibits=True)
KIM = Caller("kim", "Kim", delegate=True)


@dataclass
class RecordingNotifier:
    """A Notifier that keeps what it was given (the real one is web/meetings_notifier.py)."""

    notices: list[Notice] = field(default_factory=list)
    closed: list[RoomChanged] = field(default_factory=list)

    async def notice(self, notice: Notice) -> None:
        self.notices.append(notice)

    async def room_closed(self, event: RoomChanged) -> None:
        self.closed.append(event)

    def kinds(self, identity: str) -> list[str]:
        return [n.kind for n in self.notices if n.identity == identity]


@dataclass
class World:
    service: BookingService
    agenda: Agenda
    clock: FakeClock
    notifier: RecordingNotifier

    async def tick(self, at: float) -> None:
        self.clock.advance(at - self.clock.now())
        await self.agenda.tick()
        await self.agenda.tick()  # a second look changes nothing (once per step)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    url = None if request.param == "memory" else request.getfixturevalue("redis_url")
    cfg, clock, notifier = settings(redis_url=url), FakeClock(NOW), RecordingNotifier()
    async with open_backend(cfg, clock=clock) as backend, open_bookings(
            cfg, backend, clock=clock, notifier=notifier, run_agenda=False,
            policy=BookingPolicy(request_ttl_s=3600)) as bookings:
        service = bookings.service
        await service.put_profile(FAW, {"id": "faw", **PROFILE})
        yield World(service, bookings.agenda, clock, notifier)


async def booked(world: World, *, hours: float = 2) -> tuple[str, float]:
    start = (world.clock.now() // 3600 + hours) * 3600
    [slot] = await world.service.publish(LI, "faw", [{
        "starts_at": _iso(start), "length_min": 15, "languages": ["en"]}])
    made = await world.service.request(KIM, slot.id, message="hi", time_zone="Asia/Seoul")
    await world.service.act(FAW, made.id, Action.ACCEPT)
    return made.id, start


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


async def enter(world: World, who: Caller, request_id: str, at: float) -> None:
    """Join the meeting room at ``at``; the agenda looks a few seconds later (its tick)."""
    world.clock.advance(at - world.clock.now())
    link = await world.service.join_link(who, request_id)
    token = verify(SECRET, link.token, now=at)
    await world.service.rooms.join(token, f"mtg-{request_id}", language="en")
    await world.tick(at + 5)


async def test_a_meeting_from_reminder_to_ratings(world: World) -> None:
    request_id, start = await booked(world)
    assert world.notifier.kinds("kim") == ["request.accepted"]
    await world.tick(start - 301)
    assert "meeting.reminder" not in world.notifier.kinds("kim")
    await world.tick(start - 300)
    assert world.notifier.kinds("kim").count("meeting.reminder") == 1
    assert world.notifier.kinds("faw-li").count("meeting.reminder") == 1
    await enter(world, FAW, request_id, start - 120)
    await enter(world, KIM, request_id, start - 60)
    guest = await world.service.rooms.store.get_participant(f"mtg-{request_id}", "kim")
    assert guest is not None and guest.waiting, "the buyer waits for the exhibitor to admit"
    await world.tick(start + 60)
    close_at = start + 15 * 60 + 300
    await world.tick(close_at - 60)
    assert world.notifier.kinds("kim").count("meeting.ending") == 1
    room = await world.service.rooms.store.get_room(f"mtg-{request_id}")
    assert room is not None and room.state is not RoomState.ENDED
    await world.tick(close_at)
    room = await world.service.rooms.store.get_room(f"mtg-{request_id}")
    assert room is not None and room.state is RoomState.ENDED
    assert [e.room.id for e in world.notifier.closed] == [f"mtg-{request_id}"]
    ended = [n for n in world.notifier.notices if n.kind == "meeting.ended"]
    assert {n.identity for n in ended} >= {"kim", "faw"}
    assert ended[0].data["attendance"] == "both_joined"
    view = await world.service.view(KIM, request_id)
    assert view.request.state is RequestState.COMPLETED and view.attendance == "both_joined"
    await world.service.rate(KIM, request_id, rating=5, note="ask about delivery terms")
    await world.service.rate(FAW, request_id, rating=4, note="send the SUV price list")
    assert (await world.service.view(KIM, request_id)).mine.note == "ask about delivery terms"
    assert (await world.service.view(LI, request_id)).mine.note == "send the SUV price list"


async def test_no_show_is_recorded_and_counted(world: World) -> None:
    request_id, start = await booked(world)
    await enter(world, LI, request_id, start)
    await world.tick(start + 30 * 60)
    view = await world.service.view(FAW, request_id)
    assert view.attendance == "buyer_no_show"
    mine = await world.service.requests_of(FAW, "faw")
    board = dashboard(mine, await world.service.records_of(mine),
                      view.request.starts_at + timedelta(days=1))
    assert board.no_show_rate == 1.0 and board.attendance["buyer_no_show"] == 1


async def test_unanswered_requests_expire_and_free_the_slot(world: World) -> None:
    start = (world.clock.now() // 3600 + 3) * 3600
    [slot] = await world.service.publish(FAW, "faw", [{
        "starts_at": _iso(start), "length_min": 30, "languages": ["en"]}])
    made = await world.service.request(KIM, slot.id)
    await world.tick(made.expires_at)
    view = await world.service.view(KIM, made.id)
    assert view.request.state is RequestState.EXPIRED
    assert "request.expired" in world.notifier.kinds("faw")
    assert [s.id for s, _ in await world.service.slots("faw")] == [slot.id]


async def test_join_links_work_only_in_their_window(world: World) -> None:
    request_id, start = await booked(world)
    link = await world.service.join_link(KIM, request_id)
    with pytest.raises(TokenError):
        verify(SECRET, link.token, now=start - 400)
    with pytest.raises(TokenError):
        verify(SECRET, link.token, now=start + 15 * 60 + 300 + 11)
    assert verify(SECRET, link.token, now=start - 299, room=f"mtg-{request_id}").identity == "kim"
