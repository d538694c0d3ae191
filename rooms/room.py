"""A room: what kind it is, where it is shown, when it runs, and its limits.

Rooms are immutable values; a change (lock, close, go live) is a new ``Room`` written to the
Store. ``to_dict``/``from_dict`` are the one JSON shape used by the Redis store and the admin API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from config import LANGUAGES
from rooms.errors import InvalidInput
from rooms.pavilion import Pavilion
from rooms.text import DESCRIPTION_MAX, TITLE_MAX, LocalizedText, short_text

ROOM_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MEETING_MAX = 4
DEFAULT_STAGE_SIZE = 6
DEFAULT_MAX_PINNED = 3


class RoomKind(StrEnum):
    BROADCAST = "broadcast"  # one host + co-hosts publish; viewers watch, chat, react
    FORUM = "forum"  # a stage of speakers and moderators; the audience raises hands
    MEETING = "meeting"  # private trade meeting: at most 4, invite-only, waiting room


class RoomState(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Room:
    """One room's metadata and limits (not its participants: they live in presence)."""

    id: str
    kind: RoomKind
    pavilion: Pavilion
    title: LocalizedText
    description: LocalizedText = field(default_factory=LocalizedText)
    exhibitor: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    time_zone: str = "Asia/Shanghai"  # for display only; the instants above are absolute
    state: RoomState = RoomState.SCHEDULED
    locked: bool = False
    capacity: int | None = None  # participants (meetings: at most MEETING_MAX)
    stage_size: int = DEFAULT_STAGE_SIZE  # forums: speakers + moderators publishing at once
    max_pinned: int = DEFAULT_MAX_PINNED  # broadcasts: product cards pinned at once
    invitees: frozenset[str] = frozenset()  # meetings: identities invited (empty: any token)
    # The host's (exhibitor's or organisation's) name per language, as the organiser wrote it:
    # pages show it for the host in chat, presence and the host line (issue 12).
    host_name: LocalizedText = field(default_factory=LocalizedText)
    # Issue 17: the interpretation languages the organiser plans for a forum (or a meeting),
    # as the lobby and the room's card announce them; what is live is the room's `channels`.
    interpretation: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_room_id(self.id)
        for when in (self.starts_at, self.ends_at):
            if when is not None and when.utcoffset() is None:
                raise InvalidInput("naive_datetime", "room times must be time-zone aware")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise InvalidInput("bad_schedule", "a room must end after it starts")
        for lang in self.title:
            short_text(self.title[lang], max_chars=TITLE_MAX, what="title")
        for lang in self.host_name:
            short_text(self.host_name[lang], max_chars=TITLE_MAX, what="title")
        for lang in self.description:
            if len(self.description[lang]) > DESCRIPTION_MAX:
                raise InvalidInput("description_too_long", "description is too long")
        if self.capacity is not None and self.capacity < 1:
            raise InvalidInput("bad_capacity", "capacity must be at least 1")
        if any(code not in LANGUAGES for code in self.interpretation):
            raise InvalidInput("bad_language", "interpretation languages must be among "
                               + " ".join(LANGUAGES))
        if self.stage_size < 1 or self.max_pinned < 0:
            raise InvalidInput("bad_limit", "stage size must be >= 1 and max pinned >= 0")

    @property
    def limit(self) -> int | None:
        """The participant limit that applies: meetings are capped at 4 whatever is set."""
        if self.kind is RoomKind.MEETING:
            return min(self.capacity or MEETING_MAX, MEETING_MAX)
        return self.capacity

    def with_state(self, state: RoomState) -> Room:
        return replace(self, state=state)

    def with_lock(self, locked: bool) -> Room:
        return replace(self, locked=locked)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "pavilion": self.pavilion.value,
            "title": self.title.as_dict(),
            "description": self.description.as_dict(),
            "exhibitor": self.exhibitor,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "time_zone": self.time_zone,
            "state": self.state.value,
            "locked": self.locked,
            "capacity": self.capacity,
            "stage_size": self.stage_size,
            "max_pinned": self.max_pinned,
            "invitees": sorted(self.invitees),
            "host_name": self.host_name.as_dict(),
            "interpretation": list(self.interpretation),
        }

    def public_dict(self) -> dict[str, Any]:
        """What participants see: everything but a meeting's invitation list (hosts only)."""
        data = self.to_dict()
        del data["invitees"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Room:
        """Build from the JSON shape; any bad field is an ``InvalidInput`` naming it."""
        try:
            return cls(
                id=check_room_id(data["id"]),
                kind=RoomKind(data["kind"]),
                pavilion=Pavilion(data["pavilion"]),
                title=LocalizedText(_mapping(data.get("title"), "title")),
                description=LocalizedText(_mapping(data.get("description"), "description")),
                exhibitor=str(data.get("exhibitor") or ""),
                starts_at=_when(data.get("starts_at")),
                ends_at=_when(data.get("ends_at")),
                time_zone=str(data.get("time_zone") or "Asia/Shanghai"),
                state=RoomState(data.get("state") or RoomState.SCHEDULED),
                locked=_flag(data.get("locked", False), "locked"),
                capacity=_opt_int(data.get("capacity")),
                stage_size=int(data.get("stage_size") or DEFAULT_STAGE_SIZE),
                max_pinned=int(data.get("max_pinned", DEFAULT_MAX_PINNED)),
                invitees=frozenset(_strings(data.get("invitees"), "invitees")),
                host_name=LocalizedText(_mapping(data.get("host_name"), "host_name")),
                interpretation=tuple(_strings(data.get("interpretation"), "interpretation")),
            )
        except KeyError as exc:
            raise InvalidInput("missing_field", f"room field {exc.args[0]!r} is required") from None
        except (ValueError, TypeError) as exc:
            raise InvalidInput("bad_field", f"invalid room: {exc}") from None


def check_room_id(room_id: str) -> str:
    if not isinstance(room_id, str) or not ROOM_ID.fullmatch(room_id):
        raise InvalidInput("bad_room_id", "room id must be 1-64 of a-z 0-9 _ - (lower case)")
    return room_id


def _mapping(value: object, what: str) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("bad_field", f"{what} must be an object of language -> text")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("bad_field", f"{what} must be true or false")
    return value


def _strings(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("bad_field", f"{what} must be a list of strings")
    return list(value)


def _when(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _opt_int(value: object) -> int | None:
    return None if value in (None, "") else int(str(value))
