"""Issue 17 §1: the ``interpret`` grant, the ``languages`` claim, the interpreter's record and
the gate's rules for channels (pure tables; the doors are tests/security/test_matrix.py)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest

from rooms import gate, policy
from rooms.errors import NotAllowed, RoomFull
from rooms.gate import Action, Facts
from rooms.participant import Participant, Role
from rooms.room import RoomKind
from rooms.token import Grant, TokenError, mint, parse_languages, verify
from tests.rooms.test_policy import a_room, person, token
from web.cli import main

SECRET = "interp-secret-0123456789-0123456789-0123456789"
INT = Grant.INTERPRET


def test_languages_claim_round_trips_and_is_checked() -> None:
    tok = mint(SECRET, identity="booth-zh-1", room="forum", grants=[Grant.JOIN, INT], ttl_s=60,
               languages=["ko", "zh", "ko"])
    access = verify(SECRET, tok)
    assert access.languages == ("ko", "zh") and access.allows(INT)
    assert verify(SECRET, mint(SECRET, identity="a", room="r", grants=[], ttl_s=60)).languages \
        == ()
    with pytest.raises(ValueError, match="unknown language"):
        parse_languages("ko,xx")
    forged = mint(SECRET, identity="a", room="r", grants=[], ttl_s=60)
    with pytest.raises(TokenError):
        verify(SECRET + "x", forged)


def test_cli_mints_an_interpreter_token() -> None:
    out = io.StringIO()
    env = {"PAVILION_SECRET": SECRET, "PAVILION_DEMO": "false"}
    with redirect_stdout(out):
        code = main(["token", "--room", "forum", "--identity", "booth-ko", "--grants",
                     "join,subscribe,interpret", "--languages", "ko,zh"], env)
    assert code == 0
    access = verify(SECRET, out.getvalue().strip())
    assert access.languages == ("ko", "zh") and access.grants == {Grant.JOIN, Grant.SUBSCRIBE, INT}


@pytest.mark.parametrize(("kind", "grants", "role"), [
    (RoomKind.FORUM, (INT,), Role.INTERPRETER),
    (RoomKind.MEETING, (INT,), Role.INTERPRETER),
    (RoomKind.BROADCAST, (INT,), Role.VIEWER),  # no booths in a broadcast
    (RoomKind.FORUM, (INT, Grant.MODERATE), Role.MODERATOR),
])
def test_role_of_an_interpret_token(kind: RoomKind, grants: tuple[Grant, ...],
                                    role: Role) -> None:
    assert policy.role_for(a_room(kind), token("x", *grants)) is role


def interpreter(**kw: object) -> Participant:
    return person("booth", Role.INTERPRETER, languages=("ko", "zh"), **kw)


@pytest.mark.parametrize(("me", "grants", "language", "code"), [
    (interpreter(), (INT,), "zh", None),
    (interpreter(), (INT,), "ko", None),
    (interpreter(), (INT,), "en", "wrong_language"),
    (interpreter(), (), "zh", "not_allowed"),  # the grant is gone (a re-minted token)
    (interpreter(muted=True), (INT,), "zh", "muted"),
    (person("spk", Role.SPEAKER, on_stage=True), (INT,), "zh", "not_allowed"),
    (person("aud"), (), "zh", "not_allowed"),
    (None, (INT,), "zh", "not_in_room"),
])
def test_who_may_work_a_channel(me: Participant | None, grants: tuple[Grant, ...],
                                language: str, code: str | None) -> None:
    facts = Facts(a_room(RoomKind.FORUM), me, banned=False, now=0.0)
    if code is None:
        gate.decide_channel(token("booth", *grants), facts, language)
        return
    with pytest.raises(NotAllowed) as caught:
        gate.decide_channel(token("booth", *grants), facts, language)
    assert caught.value.code == code


def test_interpreter_never_on_the_floor_and_never_promoted() -> None:
    room = a_room(RoomKind.FORUM)
    facts = Facts(room, interpreter(), banned=False, now=0.0)
    with pytest.raises(NotAllowed) as caught:
        gate.decide(token("booth", INT, Grant.PUBLISH), Action.PUBLISH, facts)
    assert caught.value.code == "not_on_stage"
    with pytest.raises(NotAllowed):
        policy.promoted_role(room, interpreter())
    gate.decide(token("booth", INT, Grant.SUBSCRIBE), Action.SUBSCRIBE, facts)  # hears the floor
    entry = policy.entry_for(room, Role.INTERPRETER, [], hidden=False)
    assert not entry.on_stage and not entry.waiting


def test_interpreter_record_keeps_languages() -> None:
    me = interpreter()
    assert Participant.from_dict(me.to_dict()) == me


def test_an_interpreter_is_an_extra_seat_of_a_full_meeting() -> None:
    """Issue 17 §6: a meeting whose seats are taken: an interpreter still enters (off stage, not
    waiting), and does not take a seat from the next admitted guest."""
    meeting = a_room(RoomKind.MEETING, capacity=2)
    seated = [person("host", Role.HOST, on_stage=True), person("guest", Role.GUEST,
                                                               on_stage=True)]
    entry = policy.entry_for(meeting, Role.INTERPRETER, seated, hidden=False)
    assert (entry.on_stage, entry.waiting) == (False, False)
    waiting = person("late", Role.GUEST, waiting=True)
    with pytest.raises(RoomFull):
        policy.check_admit(meeting, waiting, [*seated, waiting])
    roomy = a_room(RoomKind.MEETING, capacity=3)
    policy.check_admit(roomy, waiting, [*seated, interpreter(), waiting])  # not counted
