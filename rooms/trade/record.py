"""What is kept about a meeting after it was booked: attendance, ratings, private notes, and the
notices people receive (pure values).

Each side (buyer, exhibitor) has its own :class:`SideRecord`: when it first joined the room, its
1-5 rating of the meeting and a private follow-up note that only that side ever reads.
:func:`attendance` turns the two join times into the figure the dashboard counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from rooms.errors import InvalidInput
from rooms.trade.request import Side, free_text

NOTE_MAX = 2_000
FEED_MAX = 100  # notices kept per person (oldest dropped)


class Attendance(StrEnum):
    BOTH_JOINED = "both_joined"
    BUYER_NO_SHOW = "buyer_no_show"
    EXHIBITOR_NO_SHOW = "exhibitor_no_show"
    BOTH_NO_SHOW = "both_no_show"


@dataclass(frozen=True, slots=True)
class SideRecord:
    joined_at: float | None = None
    rating: int | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"joined_at": self.joined_at, "rating": self.rating, "note": self.note}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SideRecord:
        joined, rating = data.get("joined_at"), data.get("rating")
        return cls(joined_at=None if joined is None else float(joined),
                   rating=None if rating is None else int(rating), note=str(data.get("note", "")))


@dataclass(frozen=True, slots=True)
class MeetingRecord:
    """Both sides' records of one meeting (keyed by the request id)."""

    buyer: SideRecord = field(default_factory=SideRecord)
    exhibitor: SideRecord = field(default_factory=SideRecord)

    def of(self, side: Side) -> SideRecord:
        return self.buyer if side is Side.BUYER else self.exhibitor

    def attendance(self) -> Attendance:
        return attendance(self.buyer.joined_at is not None, self.exhibitor.joined_at is not None)


def attendance(buyer_joined: bool, exhibitor_joined: bool) -> Attendance:
    if buyer_joined and exhibitor_joined:
        return Attendance.BOTH_JOINED
    if exhibitor_joined:
        return Attendance.BUYER_NO_SHOW
    if buyer_joined:
        return Attendance.EXHIBITOR_NO_SHOW
    return Attendance.BOTH_NO_SHOW


def feedback(record: SideRecord, rating: object, note: object) -> SideRecord:
    """A side's record with a new rating (1-5) and/or note; ``None`` leaves a field as it was."""
    changes: dict[str, Any] = {}
    if rating is not None:
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidInput("bad_rating", "rating must be an integer from 1 to 5")
        changes["rating"] = rating
    if note is not None:
        changes["note"] = free_text(note, max_chars=NOTE_MAX, what="note")
    if not changes:
        raise InvalidInput("missing_field", "give a rating, a note, or both")
    return replace(record, **changes)


@dataclass(frozen=True, slots=True)
class Notice:
    """One entry of a person's in-app notification feed, also pushed as a server event.

    ``kind`` is the Socket.IO event name (``meeting.reminder``, ``request.accepted`` ...);
    ``data`` holds ids and UTC times only, so each page words it in its own language.
    """

    id: str
    identity: str
    kind: str
    at: float
    data: Mapping[str, Any] = field(default_factory=dict)
    room_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "at": self.at, "data": dict(self.data),
                "room_id": self.room_id}

    @classmethod
    def from_dict(cls, identity: str, data: Mapping[str, Any]) -> Notice:
        return cls(id=str(data["id"]), identity=identity, kind=str(data["kind"]),
                   at=float(data["at"]), data=dict(data.get("data") or {}),
                   room_id=str(data.get("room_id") or ""))
