"""The rules of each room kind, as pure functions over values (no I/O, table-tested).

:class:`~rooms.service.RoomService` gathers the facts (room, presence, bans) from the Store and
asks these functions; each either returns a decision or raises the typed error that says why not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from rooms.clock import utc
from rooms.errors import NotAllowed, RoomFull
from rooms.participant import Participant, Role
from rooms.room import Room, RoomKind, RoomState
from rooms.token import AccessToken, Grant

EARLY_JOIN = timedelta(minutes=10)  # the audience may enter a scheduled room this early
WAITING_ROOM_MAX = 16
STAFF = frozenset({Role.HOST, Role.COHOST, Role.MODERATOR, Role.SPEAKER})
ON_STAGE_ROLES = frozenset({Role.HOST, Role.COHOST, Role.MODERATOR, Role.SPEAKER, Role.GUEST})


@dataclass(frozen=True, slots=True)
class Entry:
    """How someone enters: in which role, on stage or not, in the waiting room or not."""

    role: Role
    on_stage: bool
    waiting: bool


# Room kinds an interpreter works in (issue 17): a forum's booths, a meeting's extra seat.
INTERPRETED_KINDS = frozenset({RoomKind.FORUM, RoomKind.MEETING})


def role_for(room: Room, token: AccessToken) -> Role:
    """The role a token gets in a room, from its grants and whether it is the exhibitor's.

    An ``interpret`` token without ``moderate`` makes an interpreter in a forum or a meeting
    (issue 17); elsewhere (a broadcast) the grant means nothing and the other grants decide."""
    exhibitor = bool(room.exhibitor) and token.identity == room.exhibitor
    publish, moderate = token.allows(Grant.PUBLISH), token.allows(Grant.MODERATE)
    if (token.allows(Grant.INTERPRET) and not moderate and not exhibitor
            and room.kind in INTERPRETED_KINDS):
        return Role.INTERPRETER
    if room.kind is RoomKind.MEETING:
        return Role.HOST if exhibitor or moderate else Role.GUEST
    if room.kind is RoomKind.BROADCAST:
        if exhibitor and (publish or moderate):
            return Role.HOST
        return Role.COHOST if publish else Role.MODERATOR if moderate else Role.VIEWER
    return Role.MODERATOR if moderate else Role.SPEAKER if publish else Role.VIEWER


def check_open(room: Room, role: Role, now: float) -> None:
    """Ended rooms admit nobody; scheduled or locked ones admit only staff (and meeting guests,
    who wait for the host anyway)."""
    if room.state is RoomState.ENDED:
        raise NotAllowed("room_ended", "the room has ended")
    if role in STAFF or role is Role.INTERPRETER or room.kind is RoomKind.MEETING:
        return  # interpreters settle into their booth before the forum starts
    if room.state is RoomState.SCHEDULED and not _near_start(room, now):
        raise NotAllowed("not_started", "the room has not started yet")
    if room.locked:
        raise NotAllowed("room_locked", "the room is locked")


def _near_start(room: Room, now: float) -> bool:
    return room.starts_at is not None and utc(now) >= room.starts_at - EARLY_JOIN


def check_invited(room: Room, token: AccessToken, role: Role) -> None:
    """Meetings are invite-only: a token for exactly this room, and on the list if there is one."""
    if room.kind is not RoomKind.MEETING or role is Role.HOST:
        return
    if token.room != room.id:
        raise NotAllowed("not_invited", "a meeting needs a token for that meeting")
    if role is Role.INTERPRETER:
        return  # issue 17 §6: an interpret token for exactly this meeting is the assignment
    if room.invitees and token.identity not in room.invitees:
        raise NotAllowed("not_invited", "you are not on this meeting's invitation list")


def needs_roster(room: Room, role: Role) -> bool:
    """Whether deciding entry needs the list of who is present: not for a viewer of a room with
    no participant limit, which is every viewer of a big broadcast (thousands: skip the read)."""
    return room.limit is not None or role in ON_STAGE_ROLES or room.kind is RoomKind.MEETING


def entry_for(room: Room, role: Role, present: Sequence[Participant], *, hidden: bool) -> Entry:
    """Decide stage and waiting room, or raise ``RoomFull``. ``present`` excludes the joiner."""
    if hidden:
        return Entry(role, on_stage=False, waiting=False)
    if role is Role.INTERPRETER:  # issue 17 §6: an extra seat, off stage, never waiting
        return Entry(role, on_stage=False, waiting=False)
    admitted = _seated(present)
    waiting = room.kind is RoomKind.MEETING and role is Role.GUEST
    if waiting:
        if sum(1 for p in present if p.waiting) >= WAITING_ROOM_MAX:
            raise RoomFull("the waiting room is full", limit=WAITING_ROOM_MAX,
                           code="waiting_room_full")
    elif room.limit is not None and len(admitted) >= room.limit:
        raise RoomFull("the room is full", limit=room.limit)
    on_stage = not waiting and role in ON_STAGE_ROLES and _stage_has_room(room, admitted)
    return Entry(role, on_stage=on_stage, waiting=waiting)


def _seated(present: Sequence[Participant]) -> list[Participant]:
    """Who takes one of the room's seats (``limit``): admitted, shown, and not an interpreter
    (an interpreter is an extra seat, issue 17 §6)."""
    return [p for p in present
            if not p.hidden and not p.waiting and p.role is not Role.INTERPRETER]


def _stage_has_room(room: Room, admitted: Sequence[Participant]) -> bool:
    if room.kind is RoomKind.MEETING:
        return True  # everyone admitted to a meeting talks
    return sum(1 for p in admitted if p.on_stage) < room.stage_size


def check_transition(room: Room, state: RoomState) -> None:
    """Rooms move forward only: scheduled -> live -> ended (repeating a state is harmless)."""
    order = (RoomState.SCHEDULED, RoomState.LIVE, RoomState.ENDED)
    if room.state is RoomState.ENDED:
        raise NotAllowed("room_ended", "the room has ended")
    if order.index(state) < order.index(room.state):
        raise NotAllowed("bad_transition", f"a {room.state.value} room cannot become {state}")


def check_admit(room: Room, target: Participant, present: Sequence[Participant]) -> None:
    if room.kind is not RoomKind.MEETING:
        raise NotAllowed("not_a_meeting", "only meetings have a waiting room")
    if not target.waiting:
        raise NotAllowed("not_waiting", "that participant is not in the waiting room")
    admitted = _seated(present)
    limit = room.limit or 0
    if len(admitted) >= limit:
        raise RoomFull("the meeting is full", limit=limit)


def promoted_role(room: Room, target: Participant) -> Role:
    """The role someone takes on stage: forum audience -> speaker, broadcast viewer -> co-host."""
    if room.kind is RoomKind.MEETING:
        raise NotAllowed("not_in_meeting", "meetings have no stage")
    if target.waiting or target.hidden or target.role is Role.INTERPRETER:
        raise NotAllowed("not_promotable", "that participant cannot go on stage")
    if target.role is Role.VIEWER:
        return Role.SPEAKER if room.kind is RoomKind.FORUM else Role.COHOST
    return target.role


def check_stage(room: Room, present: Sequence[Participant]) -> None:
    """Raise ``RoomFull('stage_full')`` when no one else fits on stage."""
    on_stage = sum(1 for p in present if p.on_stage and not p.hidden)
    if on_stage >= room.stage_size:
        raise RoomFull("the stage is full", limit=room.stage_size, code="stage_full")


def demoted_role(target: Participant) -> Role:
    """Back to the audience; the host and moderators keep their role, off stage."""
    if target.role in (Role.SPEAKER, Role.COHOST):
        return Role.VIEWER
    return target.role


def check_hand(room: Room, participant: Participant) -> None:
    if room.kind is not RoomKind.FORUM:
        raise NotAllowed("no_hands", "only forums have raised hands")
    if participant.on_stage:
        raise NotAllowed("already_on_stage", "you are already on stage")


def check_moderator(token: AccessToken) -> None:
    if not token.allows(Grant.MODERATE):
        raise NotAllowed("not_moderator", "only a moderator or the host may do that")


def check_can_post(participant: Participant, token: AccessToken) -> None:
    """Chat, reactions and questions need the chat grant, admission, and no mute."""
    if not token.allows(Grant.CHAT):
        raise NotAllowed("no_chat_grant", "your token does not allow chat")
    if participant.waiting:
        raise NotAllowed("in_waiting_room", "wait for the host to admit you")
    if participant.muted:
        raise NotAllowed("muted", "you have been muted")


def check_can_publish(room: Room, participant: Participant) -> None:
    """Media may be sent by someone on stage, admitted and not muted, in a room not ended."""
    if room.state is RoomState.ENDED:
        raise NotAllowed("room_ended", "the room has ended")
    if participant.role is Role.INTERPRETER:  # issue 17: their channel, never the floor
        raise NotAllowed("not_on_stage", "interpreters publish into their channel only")
    if not participant.publishes:
        raise NotAllowed("not_on_stage", "only participants on stage may publish")


def check_can_interpret(participant: Participant, language: str) -> None:
    """Issue 17: publishing into (or handing over, taking, muting) the ``language`` channel
    needs an interpreter of that language, present, admitted and not muted by a moderator."""
    if participant.role is not Role.INTERPRETER:
        raise NotAllowed("not_allowed", "only interpreters publish into a channel")
    if language not in participant.languages:
        raise NotAllowed("wrong_language", f"you do not interpret into {language!r}")
    if participant.waiting:
        raise NotAllowed("in_waiting_room", "wait for the host to admit you")
    if participant.muted:
        raise NotAllowed("muted", "you have been muted")
