"""Where each domain event goes on the wire, and under which name (pure).

Socket.IO rooms ("channels" here, to keep *room* for the domain) that a session enters:

- ``room:<id>``: everyone admitted to the room (not meeting guests still in the waiting room);
- ``staff:<id>``: moderators and hosts (waiting-room knocks);
- ``who:<id>:<identity>``: one participant's sessions (admitted, denied, removed, muted);
- ``user:<identity>``: every session of one person, whatever room it is in or none (entered on
  connect): trade-meeting notices (``meeting.reminder``, ``request.accepted``...);
- ``node:<node id>``: every session of one node (entered on connect and resume): ``nodes``, sent
  with ``send_here`` (this node's members only: no Redis round trip).

Channels are python-socketio rooms, so with the Redis manager an emit to one reaches every node.
Chat, chat deletions and presence are *batched* (:mod:`signaling.batch`); everything else is sent
at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rooms.events import (
    ChatDeleted,
    ChatPosted,
    Event,
    Joined,
    Kicked,
    Left,
    ParticipantChanged,
    ProductPinned,
    QuestionAsked,
    QuestionVoted,
    Reacted,
    RoomChanged,
)


def room_channel(room: str) -> str:
    return f"room:{room}"


def staff_channel(room: str) -> str:
    return f"staff:{room}"


def who_channel(room: str, identity: str) -> str:
    return f"who:{room}:{identity}"


def user_channel(identity: str) -> str:
    return f"user:{identity}"


def node_channel(node_id: str) -> str:
    return f"node:{node_id}"


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    event: str
    payload: dict[str, Any]
    batched: bool = False


_CHANGES = {
    "hand_raised": "hand.raised",
    "hand_lowered": "hand.lowered",
    "promoted": "stage.changed",
    "demoted": "stage.changed",
    "admitted": "waiting.admitted",
    "muted": "participant.muted",
    "unmuted": "participant.muted",
    "denied": "waiting.denied",
    "invited": "stage.invited",
    "declined": "stage.declined",
    "lapsed": "stage.invitation_lapsed",
}
# Changes only the person and the room's staff hear: an invitation to the stage and its refusal
# are between the moderators and the invited person until it is accepted (``stage.changed``).
_PRIVATE = frozenset({"denied", "invited", "declined", "lapsed"})


def deliveries(event: Event) -> list[Delivery]:
    """The emits one domain event causes (``Reacted`` is aggregated by the batcher instead)."""
    match event:
        case Joined(room=room, participant=p):
            if p.hidden:
                return []
            if p.waiting:
                return [Delivery(staff_channel(room.id), "waiting.knock", event.to_dict())]
            return [Delivery(room_channel(room.id), "participant.joined", event.to_dict(), True)]
        case Left(room_id=room_id, hidden=hidden):
            if hidden:
                return []
            return [Delivery(room_channel(room_id), "participant.left", event.to_dict(), True)]
        case ParticipantChanged(participant=p, change=change):
            return _changed(event, p.room_id, p.identity, change)
        case Kicked(room_id=room_id, identity=identity, hidden=hidden):
            payload = event.to_dict()
            told = [Delivery(who_channel(room_id, identity), "participant.removed", payload)]
            if hidden:  # staff see it; the room never saw the hidden participant
                return [*told, Delivery(staff_channel(room_id), "participant.removed", payload)]
            return [*told, Delivery(room_channel(room_id), "participant.removed", payload)]
        case RoomChanged(room=room, change=change):
            name = "room.closed" if change == "ended" else "room.changed"
            return [Delivery(room_channel(room.id), name, event.to_dict())]
        case ProductPinned(room_id=room_id, pinned=pinned):
            name = "product.pinned" if pinned else "product.unpinned"
            return [Delivery(room_channel(room_id), name, event.to_dict())]
        case ChatPosted(message=m):
            return [Delivery(room_channel(m.room_id), "chat.message", event.to_dict(), True)]
        case ChatDeleted(room_id=room_id):
            return [Delivery(room_channel(room_id), "chat.deleted", event.to_dict(), True)]
        case QuestionAsked(question=q):
            return [Delivery(room_channel(q.room_id), "question.asked", event.to_dict())]
        case QuestionVoted(room_id=room_id):
            return [Delivery(room_channel(room_id), "question.voted", event.to_dict())]
        case Reacted():
            return []
    return []  # pragma: no cover - exhaustive over rooms.events.Event


def _changed(event: ParticipantChanged, room: str, identity: str,
             change: str) -> list[Delivery]:
    name = _CHANGES.get(change, "participant.changed")
    payload = event.to_dict()
    if event.participant.hidden:  # never announced to the room: staff and itself only
        return [Delivery(staff_channel(room), name, payload),
                Delivery(who_channel(room, identity), name, payload)]
    if change in _PRIVATE:  # the room never saw the knock or the invitation
        if change == "denied":
            payload["identity"] = identity
        return [Delivery(staff_channel(room), name, payload),
                Delivery(who_channel(room, identity), name, payload)]
    out = [Delivery(room_channel(room), name, payload)]
    if change in ("admitted", "muted", "unmuted"):
        out.append(Delivery(who_channel(room, identity), name, payload))
    return out
