"""What a recording is asked to do, and what it leaves behind (issue 15, docs/recordings.md §1).

These are the records the engine (:mod:`streaming.recorder`) and its callers (signalling, the
web layer) exchange: a :class:`RecordingSpec` in, :class:`RecordedFile` and
:class:`RecordingEnded` out. Plain frozen values, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONTAINERS = ("auto", "webm", "mp4")
# why a recording ended: "" is a stop on request (docs/recordings.md §1)
REASONS = ("", "disk_full", "slow_disk", "write_error", "plane_closed")


@dataclass(frozen=True, slots=True)
class RecordingSpec:
    """One recording of one room.

    ``directory``: created by the engine; the files go inside. ``program``: also a program file
    (issue 15 §4). ``container``: ``auto`` (VP8 → WebM, H264 → MP4) or a forced ``webm`` /
    ``mp4`` where the codecs allow it (WebM takes no H264, MP4 no VP8: then ``auto``'s choice;
    so it decides audio-only files). ``queue_frames``: the bound of the queue to the writer
    thread, in frames (about ``PACKETS_PER_FRAME`` packets each, streaming/recorder.py); a
    writer that falls that far behind stops the recording (``slow_disk``).
    ``min_free_bytes``: below this much free space the recording stops (``disk_full``).
    """

    rec_id: str
    room: str
    directory: Path
    program: bool = False
    container: str = "auto"
    queue_frames: int = 600
    min_free_bytes: int = 200 << 20

    def __post_init__(self) -> None:
        if self.container not in CONTAINERS:
            raise ValueError(f"container must be one of {', '.join(CONTAINERS)}")
        if self.queue_frames < 1:
            raise ValueError("queue_frames must be at least 1")


@dataclass(frozen=True, slots=True)
class RecordedFile:
    """One file of a recording: ``kind`` ``participant`` or ``program``; ``participant`` is
    empty for the program file; ``bytes`` and ``duration_s`` as of now (live while it runs)."""

    name: str
    kind: str
    media_type: str
    bytes: int
    participant: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class RecordingEnded:
    """A recording stopped: on request (``reason`` ``""``) or by itself (``disk_full``,
    ``slow_disk``, ``write_error``, ``plane_closed``). A media event of the plane."""

    rec_id: str
    room: str
    reason: str
    files: tuple[RecordedFile, ...]
    duration_s: float
