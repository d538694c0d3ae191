"""A meeting's life (issue 12): it lives for its slot plus grace, whoever leaves and comes back;
only its time, the host's "end meeting" or a cancellation ends it. An early link is told apart
from a bad one (``rooms.token.opens_at``), so a page can say when the room opens.

Real service over memory and a real redis-server, the agenda ticked by hand on a fake clock
(tests/meetings/test_agenda.py's world).
"""

from __future__ import annotations

import pytest

from config import load
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint, opens_at, verify
from rooms.trade.request import Action, RequestState
from rooms.trade.service import Caller
from tests.meetings import test_agenda
from tests.meetings.api import SECRET
from tests.meetings.test_agenda import KIM, World, booked
from web.page_access import visitor_for

world = test_agenda.world  # the same fixture: memory and a real redis-server
LI = Caller("faw-li", "Li", exhibits=True)  # the slot's host (booked() publishes as Li)


async def _in_room(world: World, who: Caller, request_id: str, at: float) -> None:
    world.clock.advance(at - world.clock.now())
    link = await world.service.join_link(who, request_id)
    await world.service.rooms.join(verify(SECRET, link.token, now=at), f"mtg-{request_id}")
    await world.tick(at + 5)


async def _leave(world: World, who: Caller, request_id: str) -> None:
    link = await world.service.join_link(who, request_id)
    token = verify(SECRET, link.token, now=world.clock.now())
    await world.service.rooms.leave(token, f"mtg-{request_id}")


async def _state(world: World, request_id: str) -> tuple[str, RequestState]:
    """("open" or "ended", the request's state)."""
    room = await world.service.rooms.store.get_room(f"mtg-{request_id}")
    assert room is not None
    shown = "ended" if room.state is RoomState.ENDED else "open"
    return shown, (await world.service.view(KIM, request_id)).request.state


async def test_the_host_leaving_before_and_during_the_slot_ends_nothing(world: World) -> None:
    request_id, start = await booked(world)
    await _in_room(world, LI, request_id, start - 240)
    await _leave(world, LI, request_id)  # before the slot: the host's tab closes
    assert await _state(world, request_id) == ("open", RequestState.ACCEPTED)
    await _in_room(world, KIM, request_id, start - 20)  # the buyer comes: waiting
    await _in_room(world, LI, request_id, start)  # the host is back
    await world.service.rooms.admit(
        verify(SECRET, (await world.service.join_link(LI, request_id)).token, now=start),
        f"mtg-{request_id}", "kim")
    await _leave(world, LI, request_id)  # during the slot: the host drops
    await _leave(world, KIM, request_id)  # and the buyer too
    await world.tick(start + 600)
    assert await _state(world, request_id) == ("open", RequestState.ACCEPTED)
    await _in_room(world, KIM, request_id, start + 660)  # the buyer comes back: knocks again
    guest = await world.service.rooms.store.get_participant(f"mtg-{request_id}", "kim")
    assert guest is not None and guest.waiting
    close_at = start + 15 * 60 + world.service.policy.grace_s
    await world.tick(close_at - 1)
    assert await _state(world, request_id) == ("open", RequestState.ACCEPTED)
    await world.tick(close_at)  # its time is up: the agenda ends it
    assert await _state(world, request_id) == ("ended", RequestState.COMPLETED)
    assert (await world.service.view(KIM, request_id)).attendance == "both_joined"


async def test_the_host_ends_it_for_everyone_and_the_agenda_completes_it(world: World) -> None:
    request_id, start = await booked(world)
    await _in_room(world, LI, request_id, start)
    link = await world.service.join_link(LI, request_id)
    host = verify(SECRET, link.token, now=start)
    ended = await world.service.rooms.set_state(host, f"mtg-{request_id}", RoomState.ENDED)
    assert ended.change == "ended"
    await world.tick(start + 10)  # the agenda's next look: held and over, to be rated
    assert await _state(world, request_id) == ("ended", RequestState.COMPLETED)
    assert world.notifier.kinds("kim").count("meeting.ended") == 1
    await world.tick(start + 15 * 60 + world.service.policy.grace_s)
    assert world.notifier.kinds("kim").count("meeting.ended") == 1


async def test_a_cancellation_ends_it(world: World) -> None:
    request_id, start = await booked(world)
    await _in_room(world, LI, request_id, start - 200)
    await world.service.act(KIM, request_id, Action.CANCEL, reason="plans changed")
    assert await _state(world, request_id) == ("ended", RequestState.CANCELLED)


S = "s" * 40


@pytest.mark.parametrize(("token", "room", "expected"), [
    (mint(S, identity="kim", room="m", grants=[Grant.JOIN], ttl_s=600, now=1_000), "m", 1_000.0),
    (mint(S, identity="kim", room="*", grants=[Grant.JOIN], ttl_s=600, now=1_000), "m", 1_000.0),
    (mint(S, identity="kim", room="m", grants=[Grant.JOIN], ttl_s=600, now=1_000), "x", None),
    (mint("t" * 40, identity="kim", room="m", grants=[Grant.JOIN], ttl_s=600, now=1_000), "m",
     None),
    (mint(S, identity="kim", room="m", grants=[Grant.JOIN], ttl_s=600, now=500), "m", None),
    (mint(S, identity="kim", room="m", grants=[Grant.JOIN], ttl_s=100, now=0), "m", None),
    ("not.a.token", "m", None),
])
def test_opens_at_tells_an_early_link_from_a_bad_one(token: str, room: str,
                                                     expected: float | None) -> None:
    assert opens_at(S, token, room=room, now=600) == expected


def test_an_early_link_on_a_meeting_page_says_when_not_invalid() -> None:
    settings = load(env={}, overrides={"secret": S, "demo": False})
    room = Room(id="m", kind=RoomKind.MEETING, pavilion=Pavilion.AUTOMOBILE,
                title=LocalizedText({"en": "M"}))
    early = mint(S, identity="kim", room="m", grants=[Grant.JOIN], ttl_s=600, now=10**10)
    visitor = visitor_for(settings, room, early, visitor_name="V")
    assert (visitor.error, visitor.opens_at, visitor.token) == ("not_open_yet", 1e10, None)
    forged = mint("t" * 40, identity="kim", room="m", grants=[Grant.JOIN], ttl_s=600, now=10**10)
    assert visitor_for(settings, room, forged, visitor_name="V").error == "bad_signature"
