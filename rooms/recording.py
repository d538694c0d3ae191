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
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rooms.room import RoomKind

RECORDING_ID = re.compile(r"rec_[A-Za-z0-9_-]{8,40}")
FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,120}")


class RecordingState(StrEnum):
    RECORDING = "recording"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class FileKind(StrEnum):
    PARTICIPANT = "participant"  # one publisher's audio and video (a broadcast's main file)
    PROGRAM = "program"  # forums and meetings: the active speaker's video, every voice mixed


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """One output file: ``name`` within the recording's directory on ``node``."""

    name: str
    kind: FileKind
    media_type: str  # "video/webm" | "video/mp4" | "audio/webm"
    bytes: int = 0
    participant: str = ""  # PARTICIPANT files: whose
    duration_s: float = 0.0


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
