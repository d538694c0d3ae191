"""Room-kind rules as tables: who gets which role, who may enter when, stage and waiting room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rooms import policy
from rooms.errors import NotAllowed, RoomFull
from rooms.participant import Participant, Role, role_grants
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import AccessToken, Grant

START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
J, P, S, C, M, H = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE,
                    Grant.HIDDEN)


def a_room(kind: RoomKind, **kw: object) -> Room:
    fields: dict[str, object] = {"id": "r1", "kind": kind, "pavilion": Pavilion.NEW_MEDIA,
                                 "title": LocalizedText({"en": "t"}), "exhibitor": "expo-co",
                                 "starts_at": START, "state": RoomState.LIVE, **kw}
    return Room(**fields)  # type: ignore[arg-type]


def token(identity: str = "u", *grants: Grant, room: str = "r1") -> AccessToken:
    return AccessToken(identity=identity, room=room, grants=frozenset({J, *grants}),
                       expires_at=2_000_000_000)


def person(identity: str, role: Role = Role.VIEWER, **kw: object) -> Participant:
    return Participant(identity=identity, room_id="r1", name=identity, role=role,
                       **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "identity", "grants", "role"), [
    (RoomKind.BROADCAST, "expo-co", (P,), Role.HOST),
    (RoomKind.BROADCAST, "expo-co", (M,), Role.HOST),
    (RoomKind.BROADCAST, "expo-co", (), Role.VIEWER),
    (RoomKind.BROADCAST, "helper", (P,), Role.COHOST),
    (RoomKind.BROADCAST, "mod", (M,), Role.MODERATOR),
    (RoomKind.BROADCAST, "fan", (S, C), Role.VIEWER),
    (RoomKind.FORUM, "chair", (M, P), Role.MODERATOR),
    (RoomKind.FORUM, "speaker", (P,), Role.SPEAKER),
    (RoomKind.FORUM, "delegate", (S, C), Role.VIEWER),
    (RoomKind.MEETING, "expo-co", (), Role.HOST),
    (RoomKind.MEETING, "assistant", (M,), Role.HOST),
    (RoomKind.MEETING, "buyer", (P, S), Role.GUEST),
])
def test_role_for(kind: RoomKind, identity: str, grants: tuple[Grant, ...], role: Role) -> None:
    assert policy.role_for(a_room(kind), token(identity, *grants)) is role


@pytest.mark.parametrize(("state", "locked", "minutes_to_start", "role", "code"), [
    (RoomState.LIVE, False, -5, Role.VIEWER, None),
    (RoomState.LIVE, True, -5, Role.VIEWER, "room_locked"),
    (RoomState.LIVE, True, -5, Role.HOST, None),
    (RoomState.SCHEDULED, False, 60, Role.VIEWER, "not_started"),
    (RoomState.SCHEDULED, False, 9, Role.VIEWER, None),  # doors open 10 minutes early
    (RoomState.SCHEDULED, False, 60, Role.SPEAKER, None),
    (RoomState.SCHEDULED, True, 5, Role.VIEWER, "room_locked"),
    (RoomState.ENDED, False, -60, Role.VIEWER, "room_ended"),
    (RoomState.ENDED, False, -60, Role.HOST, "room_ended"),
])
def test_check_open(state: RoomState, locked: bool, minutes_to_start: int, role: Role,
                    code: str | None) -> None:
    room = a_room(RoomKind.FORUM, state=state, locked=locked)
    now = (START - timedelta(minutes=minutes_to_start)).timestamp()
    if code is None:
        policy.check_open(room, role, now)
    else:
        with pytest.raises(NotAllowed) as refused:
            policy.check_open(room, role, now)
        assert refused.value.code == code


def test_meeting_guests_enter_a_scheduled_room_to_wait() -> None:
    policy.check_open(a_room(RoomKind.MEETING, state=RoomState.SCHEDULED), Role.GUEST,
                      (START - timedelta(hours=5)).timestamp())


@pytest.mark.parametrize(("invitees", "token_room", "identity", "code"), [
    (frozenset(), "r1", "buyer", None),
    (frozenset(), "*", "buyer", "not_invited"),
    (frozenset({"buyer"}), "r1", "buyer", None),
    (frozenset({"buyer"}), "r1", "stranger", "not_invited"),
    (frozenset({"buyer"}), "*", "expo-co", None),  # the host needs no invitation
])
def test_meetings_are_invite_only(invitees: frozenset[str], token_room: str, identity: str,
                                  code: str | None) -> None:
    room = a_room(RoomKind.MEETING, invitees=invitees)
    tok = token(identity, room=token_room)
    role = policy.role_for(room, tok)
    if code is None:
        policy.check_invited(room, tok, role)
    else:
        with pytest.raises(NotAllowed) as refused:
            policy.check_invited(room, tok, role)
        assert refused.value.code == code


def test_meeting_entry_waits_and_admits_at_most_four() -> None:
    room = a_room(RoomKind.MEETING, capacity=10)
    assert room.limit == 4, "meetings never exceed four"
    entry = policy.entry_for(room, Role.GUEST, [], hidden=False)
    assert (entry.waiting, entry.on_stage) == (True, False)
    host = policy.entry_for(room, Role.HOST, [], hidden=False)
    assert (host.waiting, host.on_stage) == (False, True)
    inside = [person(f"p{i}", Role.GUEST, on_stage=True) for i in range(3)]
    waiting = person("w", Role.GUEST, waiting=True)
    policy.check_admit(room, waiting, [*inside, waiting])
    with pytest.raises(RoomFull) as full:
        policy.check_admit(room, waiting, [*inside, person("p3", Role.GUEST), waiting])
    assert (full.value.code, full.value.limit) == ("room_full", 4)
    with pytest.raises(NotAllowed):
        policy.check_admit(room, inside[0], inside)
    crowd = [person(f"w{i}", Role.GUEST, waiting=True) for i in range(policy.WAITING_ROOM_MAX)]
    with pytest.raises(RoomFull) as lobby_full:
        policy.entry_for(room, Role.GUEST, crowd, hidden=False)
    assert lobby_full.value.code == "waiting_room_full"


def test_capacity_counts_admitted_visible_people_only() -> None:
    room = a_room(RoomKind.BROADCAST, capacity=2)
    present = [person("a"), person("rec", hidden=True), person("b")]
    with pytest.raises(RoomFull):
        policy.entry_for(room, Role.VIEWER, present, hidden=False)
    assert policy.entry_for(room, Role.VIEWER, present[:2], hidden=False).on_stage is False
    assert policy.entry_for(room, Role.VIEWER, present, hidden=True).on_stage is False


def test_stage_fills_then_speakers_wait_off_stage() -> None:
    room = a_room(RoomKind.FORUM, stage_size=2)
    on_stage = [person("s1", Role.SPEAKER, on_stage=True)]
    assert policy.entry_for(room, Role.SPEAKER, on_stage, hidden=False).on_stage
    full = [*on_stage, person("m", Role.MODERATOR, on_stage=True)]
    assert not policy.entry_for(room, Role.SPEAKER, full, hidden=False).on_stage
    with pytest.raises(RoomFull) as refused:
        policy.check_stage(room, full)
    assert refused.value.code == "stage_full"
    policy.check_stage(room, on_stage)


@pytest.mark.parametrize(("kind", "before", "after"), [
    (RoomKind.FORUM, Role.VIEWER, Role.SPEAKER),
    (RoomKind.BROADCAST, Role.VIEWER, Role.COHOST),
    (RoomKind.FORUM, Role.MODERATOR, Role.MODERATOR),
])
def test_promotion_and_demotion_roles(kind: RoomKind, before: Role, after: Role) -> None:
    target = person("x", before)
    assert policy.promoted_role(a_room(kind), target) is after
    demoted = policy.demoted_role(target.update(role=after))
    assert demoted is (Role.VIEWER if after in (Role.SPEAKER, Role.COHOST) else after)


def test_meetings_have_no_stage_and_no_hands() -> None:
    with pytest.raises(NotAllowed):
        policy.promoted_role(a_room(RoomKind.MEETING), person("x", Role.GUEST))
    with pytest.raises(NotAllowed) as hands:
        policy.check_hand(a_room(RoomKind.BROADCAST), person("x"))
    assert hands.value.code == "no_hands"
    with pytest.raises(NotAllowed) as on_stage:
        policy.check_hand(a_room(RoomKind.FORUM), person("x", Role.SPEAKER, on_stage=True))
    assert on_stage.value.code == "already_on_stage"


@pytest.mark.parametrize(("who", "grants", "code"), [
    (person("v"), (C,), None),
    (person("v"), (), "no_chat_grant"),
    (person("v", muted=True), (C,), "muted"),
    (person("g", Role.GUEST, waiting=True), (C,), "in_waiting_room"),
])
def test_check_can_post(who: Participant, grants: tuple[Grant, ...], code: str | None) -> None:
    if code is None:
        policy.check_can_post(who, token("v", *grants))
    else:
        with pytest.raises(NotAllowed) as refused:
            policy.check_can_post(who, token("v", *grants))
        assert refused.value.code == code


def test_publishing_needs_the_stage_and_a_running_room() -> None:
    live, ended = a_room(RoomKind.FORUM), a_room(RoomKind.FORUM, state=RoomState.ENDED)
    policy.check_can_publish(live, person("s", Role.SPEAKER, on_stage=True))
    for room, who in ((live, person("v")), (live, person("s", Role.SPEAKER, on_stage=True,
                                                         muted=True)),
                      (ended, person("s", Role.SPEAKER, on_stage=True))):
        with pytest.raises(NotAllowed):
            policy.check_can_publish(room, who)


def test_role_grants() -> None:
    assert Grant.PUBLISH not in role_grants(Role.VIEWER)
    assert Grant.MODERATE in role_grants(Role.HOST)
    assert {Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT} <= role_grants(Role.GUEST)
    assert all(Grant.JOIN in role_grants(r) for r in Role)


@pytest.mark.parametrize(("before", "after", "code"), [
    (RoomState.SCHEDULED, RoomState.LIVE, None),
    (RoomState.SCHEDULED, RoomState.ENDED, None),
    (RoomState.LIVE, RoomState.LIVE, None),
    (RoomState.LIVE, RoomState.ENDED, None),
    (RoomState.LIVE, RoomState.SCHEDULED, "bad_transition"),
    (RoomState.ENDED, RoomState.LIVE, "room_ended"),
    (RoomState.ENDED, RoomState.ENDED, "room_ended"),
])
def test_rooms_move_forward_only(before: RoomState, after: RoomState, code: str | None) -> None:
    room = a_room(RoomKind.BROADCAST, state=before)
    if code is None:
        policy.check_transition(room, after)
    else:
        with pytest.raises(NotAllowed) as refused:
            policy.check_transition(room, after)
        assert refused.value.code == code
