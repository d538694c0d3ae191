"""Issue 17 §6: a buyer asks for an interpreter language when requesting a trade meeting (the
meetings API over HTTP), and an interpreter's token for exactly that meeting's room lets them
in as an extra seat even though the meeting's invitation list does not name them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from rooms import gate
from rooms.clock import FakeClock
from rooms.errors import NotAllowed
from rooms.gate import Facts
from rooms.room import RoomKind
from rooms.token import Grant, verify
from tests.meetings.api import SECRET, Client, app_for, call, settings
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


async def test_the_exhibitor_assigns_an_interpreter_who_gets_a_console_link(
        client: Client) -> None:
    """The exhibitor (or the organiser) names an interpreter for the accepted meeting: the
    answer is the interpreter's console link, whose token carries ``interpret`` and the
    languages for exactly the meeting's room; the interpreter's feed has it, the buyer and the
    exhibitor are told. The buyer's language must be among the interpreter's; the buyer, a
    stranger and a request not yet accepted are refused."""
    [slot] = await exhibitor_with_slots(client, "10:00")
    made = await call(client, "POST", "/requests", {"slot_id": slot["id"], "interpreter": "ko"},
                      who="kim", status=201)
    path = f"/requests/{made['id']}/interpreter"
    body = {"identity": "booth-ko", "name": "Park", "languages": ["ko", "zh"]}
    early = await call(client, "POST", path, body, who="faw", status=403)
    assert early["error"]["code"] == "not_a_meeting"
    room = (await call(client, "POST", f"/requests/{made['id']}/accept", {}, who="faw"))["room_id"]
    for who, code in (("kim", "not_allowed"), ("ivanov", "not_your_request")):
        refused = await call(client, "POST", path, body, who=who, status=403)
        assert refused["error"]["code"] == code  # the buyer may not; a stranger sees nothing
    wrong = await call(client, "POST", path, {**body, "languages": ["zh", "en"]}, who="faw",
                       status=400)
    assert wrong["error"]["code"] == "bad_language"
    link = await call(client, "POST", path, body, who="faw", status=201)
    assert link["url"].endswith(f"/interpret/{room}?token={link['token']}")
    starts = datetime.fromisoformat(made["starts_at"].replace("Z", "+00:00")).timestamp()
    claims = verify(SECRET, link["token"], now=starts)  # valid while the meeting is
    assert claims.room == room and claims.allows(Grant.INTERPRET)
    assert not claims.allows(Grant.PUBLISH) and set(claims.languages) == {"ko", "zh"}
    feed = await call(client, "GET", "/notifications", who="booth-ko")
    mine = [n for n in feed["notifications"] if n["kind"] == "meeting.interpreter"]
    assert mine and mine[0]["data"]["url"] == link["url"]
    for side in ("kim", "faw"):
        told = await call(client, "GET", "/notifications", who=side)
        notice = next(n for n in told["notifications"] if n["kind"] == "meeting.interpreter")
        assert notice["data"]["interpreter"] == "booth-ko" and "url" not in notice["data"]
    by_organiser = await call(client, "POST", path, {**body, "identity": "booth-ko-2"},
                              who="organiser", grants=(Grant.MODERATE,), room="*", status=201)
    assert verify(SECRET, by_organiser["token"], now=starts).identity == "booth-ko-2"
