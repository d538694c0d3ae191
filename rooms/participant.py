"""Participants: who is in a room, in what role, and what each role may do by default.

A participant's record is presence state: it lives in the Store under a heartbeat TTL, so the
participants of a node that crashed vanish once the TTL passes (DESIGN.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from config import LANGUAGES
from rooms.errors import InvalidInput
from rooms.text import LocalizedText
from rooms.token import Grant


class Role(StrEnum):
    HOST = "host"  # broadcast: the exhibitor; meeting: the exhibitor who admits guests
    COHOST = "cohost"  # broadcast: publishes beside the host
    MODERATOR = "moderator"  # forum: runs the stage and the Q&A
    SPEAKER = "speaker"  # forum: on stage, publishes
    VIEWER = "viewer"  # broadcast viewer, forum audience
    GUEST = "guest"  # meeting: an invited buyer
    # forum or meeting (issue 17): neither audience nor speaker; hears the floor, publishes
    # audio only into a channel of their ``languages``
    INTERPRETER = "interpreter"


_J, _P, _S, _C, _M = Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE
ROLE_GRANTS: Mapping[Role, frozenset[Grant]] = {
    Role.HOST: frozenset({_J, _P, _S, _C, _M}),
    Role.COHOST: frozenset({_J, _P, _S, _C}),
    Role.MODERATOR: frozenset({_J, _P, _S, _C, _M}),
    Role.SPEAKER: frozenset({_J, _P, _S, _C}),
    Role.VIEWER: frozenset({_J, _S, _C}),
    Role.GUEST: frozenset({_J, _P, _S, _C}),
    Role.INTERPRETER: frozenset({_J, _S, _C, Grant.INTERPRET}),
}


def role_grants(role: Role) -> frozenset[Grant]:
    """What a role may do by default; a token can only narrow it (see policy.effective_grants)."""
    return ROLE_GRANTS[role]


@dataclass(frozen=True, slots=True)
class Participant:
    """One person (or recorder) in one room, as presence records them.

    ``name`` is the one language-neutral display name every reader sees (chosen by the person,
    or ``Visitor 1234``); ``names``, when set (the room's exhibitor), is the same person's
    localized name, which a reader in that language sees instead.
    """

    identity: str
    room_id: str
    name: str
    role: Role
    language: str = "en"
    node_id: str = ""
    hand_raised: bool = False
    on_stage: bool = False
    waiting: bool = False  # meetings: in the waiting room until the host admits
    muted: bool = False  # may neither chat nor publish until unmuted
    hidden: bool = False  # recorders and observers: not listed, not counted
    joined_at: float = 0.0
    expires_at: float = 0.0  # the token's expiry: a kick bans the identity until then
    invited_until: float = 0.0  # forums: invited to the stage until then (0: not invited)
    audio_off: bool = False  # the person turned their own microphone off (announced)
    video_off: bool = False  # the person turned their own camera off (announced)
    names: LocalizedText | None = None  # an exhibitor's or organisation's localized name
    languages: tuple[str, ...] = ()  # an interpreter's working languages (issue 17)

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise InvalidInput("bad_language", f"unknown language {self.language!r}")
        if any(code not in LANGUAGES for code in self.languages):
            raise InvalidInput("bad_language", f"unknown language in {self.languages!r}")

    @property
    def publishes(self) -> bool:
        """On stage and allowed to send media now."""
        return self.on_stage and not self.muted and not self.waiting

    def update(self, **changes: Any) -> Participant:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "room_id": self.room_id,
            "name": self.name,
            "role": self.role.value,
            "language": self.language,
            "node_id": self.node_id,
            "hand_raised": self.hand_raised,
            "on_stage": self.on_stage,
            "waiting": self.waiting,
            "muted": self.muted,
            "hidden": self.hidden,
            "joined_at": self.joined_at,
            "expires_at": self.expires_at,
            "invited_until": self.invited_until,
            "audio_off": self.audio_off,
            "video_off": self.video_off,
            "names": self.names.as_dict() if self.names else None,
            "languages": list(self.languages),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Participant:
        return cls(
            identity=str(data["identity"]),
            room_id=str(data["room_id"]),
            name=str(data["name"]),
            role=Role(data["role"]),
            language=str(data.get("language") or "en"),
            node_id=str(data.get("node_id") or ""),
            hand_raised=bool(data.get("hand_raised")),
            on_stage=bool(data.get("on_stage")),
            waiting=bool(data.get("waiting")),
            muted=bool(data.get("muted")),
            hidden=bool(data.get("hidden")),
            joined_at=float(data.get("joined_at") or 0.0),
            expires_at=float(data.get("expires_at") or 0.0),
            invited_until=float(data.get("invited_until") or 0.0),
            audio_off=bool(data.get("audio_off")),
            video_off=bool(data.get("video_off")),
            names=LocalizedText(data["names"]) if data.get("names") else None,
            languages=tuple(str(code) for code in data.get("languages") or ()),
        )
