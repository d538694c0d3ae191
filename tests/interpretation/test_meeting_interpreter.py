"""Issue 17 §6: a buyer asks for an interpreter language when requesting a trade meeting (the
meetings API over HTTP), and an interpreter's token for exactly that meeting's room lets them
in as an extra seat even though the meeting's invitation list does not name them."""

from __future__ import annotations

from typing import Any

import pytest

from rooms import gate
from rooms.clock import FakeClock
from rooms.errors import NotAllowed
from rooms.gate import Facts
from rooms.room import RoomKind
from rooms.token import Grant
from tests.meetings.api import Client, app_for, call, settings
from tests.meetings.builders import NOW
from tests.meetings.test_api import exhibitor_with_slots
from tests.rooms.test_policy import a_room, token


@pytest.fixture
async def client(aiohttp_client: Any) -> Client:
    made: Client = await aiohttp_client(app_for(settings(), FakeClock(NOW)))
    return made


async def test_a_buyer_asks_for_an_interpreter_language(client: Client) -> None:
    [slot, other] = await exhibitor_with_slots(client, "10:00", "11:00")
    bad = await call(client, "POST", "/requests", {"slot_id": slot["id"], "interpreter": "xx"},
                     who="kim", status=400)
    assert bad["error"]["code"] == "bad_language"
    made = await call(client, "POST", "/requests", {"slot_id": slot["id"], "interpreter": "ko"},
                      who="kim", status=201)
    assert made["interpreter"] == "ko"
    plain = await call(client, "POST", "/requests", {"slot_id": other["id"]}, who="ivanov",
                       status=201)
    assert plain["interpreter"] == ""
    accepted = await call(client, "POST", f"/requests/{made['id']}/accept", {}, who="faw")
    assert accepted["interpreter"] == "ko" and accepted["state"] == "accepted"


def test_an_interpret_token_for_the_meeting_is_its_invitation() -> None:
    meeting = a_room(RoomKind.MEETING, invitees=frozenset({"kim", "faw"}))
    facts = Facts(meeting, None, banned=False, now=0.0)
    gate.decide_entry(token("booth", Grant.INTERPRET), facts)  # not listed, still let in
    with pytest.raises(NotAllowed) as caught:
        gate.decide_entry(token("stranger", Grant.SUBSCRIBE), facts)
    assert caught.value.code == "not_invited"
    with pytest.raises(NotAllowed) as caught:  # a token for every room is no assignment
        gate.decide_entry(token("booth", Grant.INTERPRET, room="*"), facts)
    assert caught.value.code == "not_invited"
