"""Domain events: what :class:`~rooms.service.RoomService` reports after each accepted change.

Frozen values; the signalling layer fans them out to clients (``kind`` names the Socket.IO event)
and ``to_dict`` gives their JSON payload. They carry no HTML: text is escaped where shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rooms.content import ChatMessage, Question
from rooms.participant import Participant
from rooms.room import Room


@dataclass(frozen=True, slots=True)
class Joined:
    kind: ClassVar[str] = "participant_joined"
    room: Room
    participant: Participant

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room.id, "participant": self.participant.to_dict()}


@dataclass(frozen=True, slots=True)
class Left:
    kind: ClassVar[str] = "participant_left"
    room_id: str
    identity: str
    hidden: bool = False  # a recorder or observer: never announced (issue 11, finding 4)

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "identity": self.identity}


@dataclass(frozen=True, slots=True)
class ParticipantChanged:
    """Hand raised/lowered, promoted/demoted, admitted, muted/unmuted: ``change`` says which."""

    kind: ClassVar[str] = "participant_changed"
    participant: Participant
    change: str

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.participant.room_id, "change": self.change,
                "participant": self.participant.to_dict()}


@dataclass(frozen=True, slots=True)
class Kicked:
    kind: ClassVar[str] = "participant_kicked"
    room_id: str
    identity: str
    banned_until: float
    hidden: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "identity": self.identity,
                "banned_until": self.banned_until}


@dataclass(frozen=True, slots=True)
class RoomChanged:
    """Locked/unlocked, live, closed: ``change`` says which."""

    kind: ClassVar[str] = "room_changed"
    room: Room
    change: str

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room.id, "change": self.change,
                "room": self.room.public_dict()}


@dataclass(frozen=True, slots=True)
class ProductPinned:
    kind: ClassVar[str] = "product_pinned"
    room_id: str
    product_id: str
    pinned: bool

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "product_id": self.product_id, "pinned": self.pinned}


@dataclass(frozen=True, slots=True)
class ChatPosted:
    kind: ClassVar[str] = "chat"
    message: ChatMessage

    def to_dict(self) -> dict[str, Any]:
        return self.message.to_dict()


@dataclass(frozen=True, slots=True)
class ChatDeleted:
    kind: ClassVar[str] = "chat_deleted"
    room_id: str
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "message_id": self.message_id}


@dataclass(frozen=True, slots=True)
class Reacted:
    kind: ClassVar[str] = "reaction"
    room_id: str
    reaction: str
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "reaction": self.reaction, "total": self.total}


@dataclass(frozen=True, slots=True)
class QuestionAsked:
    kind: ClassVar[str] = "question"
    question: Question

    def to_dict(self) -> dict[str, Any]:
        return self.question.to_dict()


@dataclass(frozen=True, slots=True)
class QuestionAnswered:
    kind: ClassVar[str] = "question_answered"
    room_id: str
    question_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "question_id": self.question_id}


@dataclass(frozen=True, slots=True)
class QuestionVoted:
    kind: ClassVar[str] = "question_voted"
    room_id: str
    question_id: str
    votes: int

    def to_dict(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "question_id": self.question_id, "votes": self.votes}


Event = (Joined | Left | ParticipantChanged | Kicked | RoomChanged | ProductPinned | ChatPosted
         | ChatDeleted | Reacted | QuestionAsked | QuestionAnswered | QuestionVoted)
