"""The gate's recording actions, as a table (issue 15 §3): who may record, consent, watch and
manage, on each kind of room. Pure: no I/O (the matrix test runs the same through the doors)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rooms import gate
from rooms.errors import NotAllowed
from rooms.gate import Action, Facts
from rooms.participant import Participant, Role
from rooms.recording import Recording, RecordingState
from rooms.room import RoomKind, RoomState
from rooms.token import AccessToken, Grant
from tests.recordings.helpers import STAFF, VIEWER, room

KINDS = {"broadcast": RoomKind.BROADCAST, "forum": RoomKind.FORUM, "meeting": RoomKind.MEETING}
CALLERS: dict[str, AccessToken | None] = {
    "nobody": None,
    "viewer": AccessToken("ana", "r", frozenset(VIEWER), 2**31),
    "exhibitor": AccessToken("gobi", "r", frozenset(VIEWER), 2**31),
    "moderator": AccessToken("mod", "r", frozenset(STAFF), 2**31),
    "recorder": AccessToken("bot", "r", frozenset({Grant.RECORDER}), 2**31),
    "organiser": AccessToken("org", "*", frozenset(STAFF), 2**31),
    "other_room": AccessToken("gobi", "x", frozenset(STAFF), 2**31),
}
# (caller, kind) -> may start/stop a recording (issue 15 §3: forums are the moderators')
RECORD = {("exhibitor", "broadcast"), ("exhibitor", "meeting"), *{
    (c, k) for c in ("moderator", "recorder", "organiser") for k in KINDS}}
# (caller, kind, published) -> may watch
WATCH = {*{(c, k, True) for c in CALLERS for k in ("broadcast", "forum")},
         *{(c, k, False) for c in ("exhibitor", "moderator", "organiser")
           for k in ("broadcast", "forum")},
         ("organiser", "meeting", True), ("organiser", "meeting", False)}
MANAGE = {(c, k) for c in ("exhibitor", "moderator", "organiser") for k in KINDS}


def _record(kind: RoomKind, published: bool) -> Recording:
    return Recording(id="rec_gate00000000", room="r", room_kind=kind, node="n",
                     state=RecordingState.DONE, started_at=0.0, published=published)


def _ok(check: object, *args: object) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except NotAllowed:
        return False
    return True


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("caller", CALLERS)
def test_record_watch_manage_table(caller: str, kind: str) -> None:
    token, where = CALLERS[caller], room("r", KINDS[kind])
    if token is not None:
        facts = Facts(where, None, banned=False, now=0.0)
        assert _ok(gate.decide, token, Action.RECORD, facts) == ((caller, kind) in RECORD)
    for published in (True, False):
        got = _ok(gate.decide_replay, token, Action.WATCH, where, _record(where.kind, published))
        assert got == ((caller, kind, published) in WATCH), (caller, kind, published)
    got = _ok(gate.decide_replay, token, Action.MANAGE, where, _record(where.kind, True))
    assert got == ((caller, kind) in MANAGE)


def test_nobody_records_an_ended_room_and_consent_needs_presence() -> None:
    ended = replace(room("r", RoomKind.MEETING), state=RoomState.ENDED)
    moderator = CALLERS["moderator"]
    assert moderator is not None
    with pytest.raises(NotAllowed) as refused:
        gate.decide(moderator, Action.RECORD, Facts(ended, None, banned=False, now=0.0))
    assert refused.value.code == "room_ended"
    meeting, viewer = room("r", RoomKind.MEETING), CALLERS["viewer"]
    assert viewer is not None
    with pytest.raises(NotAllowed) as absent:
        gate.decide(viewer, Action.CONSENT, Facts(meeting, None, banned=False, now=0.0))
    assert absent.value.code == "not_in_room"
    me = Participant("ana", "r", "Ana", Role.GUEST)
    gate.decide(viewer, Action.CONSENT, Facts(meeting, me, banned=False, now=0.0))
    with pytest.raises(NotAllowed):
        gate.decide(viewer, Action.CONSENT,
                    Facts(meeting, replace(me, waiting=True), banned=False, now=0.0))
