"""Issue 17 §8: who may open the interpreter console (rooms.gate.decide_console), as a table."""

from __future__ import annotations

import pytest

from rooms.errors import NotAllowed
from rooms.gate import Facts, decide_console
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import AccessToken, Grant

J, S, INT = Grant.JOIN, Grant.SUBSCRIBE, Grant.INTERPRET


def facts(kind: RoomKind = RoomKind.FORUM, state: RoomState = RoomState.LIVE, *,
          locked: bool = False, banned: bool = False) -> Facts:
    room = Room(id="summit", kind=kind, pavilion=Pavilion.NORTHEAST_ASIA,
                title=LocalizedText({"en": "Summit"}), state=state, locked=locked)
    return Facts(room, None, banned, 0.0)


def token(*grants: Grant, room: str = "summit") -> AccessToken:
    return AccessToken(identity="kim", room=room, grants=frozenset(grants), expires_at=2**31,
                       languages=("ko", "zh"))


@pytest.mark.parametrize(("who", "where", "refusal"), [
    (token(J, S, INT), facts(), None),
    (token(INT), facts(RoomKind.MEETING), None),  # a meeting's extra seat
    (token(J, S, INT), facts(state=RoomState.SCHEDULED), None),  # setting up before the start
    (token(J, S, INT), facts(locked=True), None),  # a lock bars newcomers, not the booth
    (token(J, S, INT, room="*"), facts(), None),  # an organiser's every-room token
    (token(J, S), facts(), "missing_grant"),
    (token(J, S, INT, room="other"), facts(), "wrong_room"),
    (token(J, S, INT), facts(banned=True), "banned"),
    (token(J, S, INT), facts(state=RoomState.ENDED), "room_ended"),
    (token(J, S, INT), facts(RoomKind.BROADCAST), "not_allowed"),  # no booths in a broadcast
])
def test_decide_console(who: AccessToken, where: Facts, refusal: str | None) -> None:
    if refusal is None:
        decide_console(who, where)
        return
    with pytest.raises(NotAllowed) as refused:
        decide_console(who, where)
    assert refused.value.code == refusal
