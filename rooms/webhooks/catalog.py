"""Domain events as webhook events (docs/webhooks.md lists every name and payload). Pure.

Hidden participants (recorders, observers) are never reported, as they are never announced.
A moderator's or the organiser's act on a person or a room is one ``moderation`` event whose
``action`` says which (kick, mute, unmute, promote, demote, admit, deny, lock, unlock). A
kick or a denial also ends the person's presence (no ``Left`` follows them): ``participant_left``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rooms.events import Event, Joined, Kicked, Left, ParticipantChanged, RoomChanged
from rooms.participant import Participant
from rooms.room import Room

MODERATED = {"muted": "mute", "unmuted": "unmute", "promoted": "promote",
             "demoted": "demote", "admitted": "admit", "denied": "deny"}
Hook = tuple[str, str, dict[str, Any]]  # (event name, room, data)


def person(participant: Participant) -> dict[str, Any]:
    return {"identity": participant.identity, "name": participant.name,
            "role": participant.role.value, "waiting": participant.waiting}


def room_info(room: Room) -> dict[str, Any]:
    return {"id": room.id, "kind": room.kind.value, "pavilion": room.pavilion.value,
            "exhibitor": room.exhibitor, "title": room.title.as_dict()}


def hooks_of(event: Event) -> Iterator[Hook]:
    """The webhook events one domain event makes (most make none: chat, reactions...)."""
    match event:
        case Joined(room=room, participant=p) if not p.hidden:
            yield "participant_joined", room.id, {"participant": person(p)}
        case Left(room_id=room_id, identity=identity, hidden=False):
            yield "participant_left", room_id, {"participant": {"identity": identity}}
        case Kicked(room_id=room_id, identity=identity, banned_until=until, hidden=False):
            yield "moderation", room_id, {"action": "kick", "identity": identity,
                                          "banned_until": until}
            yield "participant_left", room_id, {"participant": {"identity": identity}}
        case ParticipantChanged(participant=p, change=change) if (
                change in MODERATED and not p.hidden):
            yield "moderation", p.room_id, {"action": MODERATED[change],
                                            "identity": p.identity}
            if change == "denied":  # out of the room, as a kicked person (no Left follows)
                yield "participant_left", p.room_id, {"participant": {"identity": p.identity}}
        case RoomChanged(room=room, change="live"):
            yield "room_started", room.id, {"room_info": room_info(room)}
        case RoomChanged(room=room, change="ended"):
            yield "room_finished", room.id, {"room_info": room_info(room)}
        case RoomChanged(room=room, change="locked" | "unlocked" as change):
            yield "moderation", room.id, {"action": change.removesuffix("ed")}
        case _:
            return
