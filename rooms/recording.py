"""A recording of a room, as the Store indexes it (issue 15 §6), and its timeline.

The media itself is files on the node that recorded it (streaming/recorder.py writes them);
this record is what every node lists and serves from: who recorded what, where the files are,
what state the recording is in, and whether its owner published it. Records are immutable
values; a change (stopped, renamed, published) is a new record written to the Store.

States: ``recording`` (a node is writing it) → ``done`` (stopped, files final), or ``failed``
(the recorder stopped by itself: disk full, write error; ``reason`` says which; the files hold
what was written), or ``interrupted`` (its node vanished mid-recording: the files play up to
the last ~2 s and can be finalised, §3). ``finalised`` marks an interrupted one made whole.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rooms.room import RoomKind

RECORDING_ID = re.compile(r"rec_[A-Za-z0-9_-]{8,40}")
FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,120}")
TIMELINE_CAP = 5_000  # entries a recording's timeline keeps (the first ones: a replay starts there)


def new_recording_id() -> str:
    """``rec_`` and 16 random base64url characters (96 bits): unguessable, since a published
    recording's link is its only key."""
    return "rec_" + secrets.token_urlsafe(12)


def is_recording_id(text: str) -> bool:
    return RECORDING_ID.fullmatch(text) is not None


HLS_NAME = re.compile(r"index\.m3u8|[va]\d{1,2}(?:\.m3u8|-init\d{1,6}\.mp4|-\d{1,9}\.m4s)")


def is_hls_name(text: str) -> bool:
    """A name an HLS replay's playlists may list (streaming/hls/archive.py): its VOD
    playlists, init segments and segments, never a path."""
    return HLS_NAME.fullmatch(text) is not None


def is_file_name(text: str) -> bool:
    """A file name a recording may hold: no path separators, never ``.`` or ``..``."""
    return FILE_NAME.fullmatch(text) is not None and text.strip(".") != ""


class RecordingState(StrEnum):
    RECORDING = "recording"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class FileKind(StrEnum):
    PARTICIPANT = "participant"  # one publisher's audio and video (a broadcast's main file)
    PROGRAM = "program"  # forums and meetings: the active speaker's video, every voice mixed
    HLS = "hls"  # the live HLS kept as a VOD playlist (issue 16 §5): its files sit beside it


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """One output file: ``name`` within the recording's directory on ``node``."""

    name: str
    kind: FileKind
    media_type: str  # "video/webm" | "video/mp4" | "audio/webm"
    bytes: int = 0
    participant: str = ""  # PARTICIPANT files: whose
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value, "media_type": self.media_type,
                "bytes": self.bytes, "participant": self.participant,
                "duration_s": self.duration_s}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordingFile:
        return cls(name=str(data["name"]), kind=FileKind(data["kind"]),
                   media_type=str(data["media_type"]), bytes=int(data.get("bytes", 0)),
                   participant=str(data.get("participant", "")),
                   duration_s=float(data.get("duration_s", 0.0)))


@dataclass(frozen=True, slots=True)
class Recording:
    id: str
    room: str
    room_kind: RoomKind
    node: str  # the node that holds the files
    state: RecordingState
    started_at: float  # epoch seconds
    ended_at: float | None = None
    duration_s: float = 0.0
    files: tuple[RecordingFile, ...] = ()
    title: str = ""  # the owner may rename it (defaults to the room's title)
    published: bool = False  # shown in the lobby's Replays and to anyone with the link
    owner: str = ""  # the room's exhibitor at the time (the studio lists by it)
    started_by: str = ""  # an identity, "admin", or "auto"
    reason: str = ""  # why it stopped when it did not stop on request (disk_full, write_error)
    finalised: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def file(self, name: str) -> RecordingFile | None:
        return next((f for f in self.files if f.name == name), None)

    @property
    def hls(self) -> bool:
        """An HLS replay (issue 16 §5): its one listed file is the VOD master playlist and
        every name :func:`is_hls_name` allows is served from its directory."""
        return any(f.kind is FileKind.HLS for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-ready); ``from_dict`` reads it back unchanged."""
        return {"id": self.id, "room": self.room, "room_kind": self.room_kind.value,
                "node": self.node, "state": self.state.value, "started_at": self.started_at,
                "ended_at": self.ended_at, "duration_s": self.duration_s,
                "files": [f.to_dict() for f in self.files], "title": self.title,
                "published": self.published, "owner": self.owner,
                "started_by": self.started_by, "reason": self.reason,
                "finalised": self.finalised, "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recording:
        ended = data.get("ended_at")
        return cls(id=str(data["id"]), room=str(data["room"]),
                   room_kind=RoomKind(data["room_kind"]), node=str(data["node"]),
                   state=RecordingState(data["state"]), started_at=float(data["started_at"]),
                   ended_at=None if ended is None else float(ended),
                   duration_s=float(data.get("duration_s", 0.0)),
                   files=tuple(RecordingFile.from_dict(f) for f in data.get("files") or ()),
                   title=str(data.get("title", "")), published=bool(data.get("published")),
                   owner=str(data.get("owner", "")), started_by=str(data.get("started_by", "")),
                   reason=str(data.get("reason", "")), finalised=bool(data.get("finalised")),
                   extra=dict(data.get("extra") or {}))


class TimelineKind(StrEnum):
    CHAT = "chat"  # {id, sender, name, text}
    PIN = "pin"  # {product_id, product}
    UNPIN = "unpin"  # {product_id}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """Something that happened in the room while it recorded, ``at_s`` seconds after the start
    (docs/recordings.md §5: the replay shows chat and product cards along the video)."""

    at_s: float
    kind: TimelineKind
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The wire and stored form: ``{at_s, kind, ...data}``."""
        return {**dict(self.data), "at_s": round(self.at_s, 3), "kind": self.kind.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimelineEntry:
        rest = {k: v for k, v in data.items() if k not in ("at_s", "kind")}
        return cls(float(data["at_s"]), TimelineKind(data["kind"]), rest)
