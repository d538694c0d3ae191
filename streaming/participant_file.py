"""ParticipantFile: one publisher's recording file and its later parts (issue 15 §1).

Runs in a recording's writer thread. The header is written once the participant's tracks are
known: when every kind it publishes has a first usable frame (video: a keyframe), or
``HEADER_WAIT_S`` after the first one (a camera that never comes is not waited for). A kind
that appears once the file is open, or a track whose codec changed, starts the next part
(``alice-2.webm``); a publisher that left and came back, or changed resolution, continues the
same file (the gap stays a gap in time).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from streaming.codec_header import H264_SPS, h264_parameter_sets, nal_units, vp8_size
from streaming.depacketize import parse_sps
from streaming.file_ledger import FileEntry, FileLedger
from streaming.frames import Frame
from streaming.muxer import Muxer, TrackFormat, container_for

logger = logging.getLogger(__name__)
HEADER_WAIT_S = 1.5
MAX_PENDING = 400  # frames held before the header (~1.5 s of audio and video, with margin)
KIND_ORDER = ("video", "audio")
UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class Timed:
    kind: str
    frame: Frame
    ms: float


def file_stem(participant: str) -> str:
    """A file name for a participant: unsafe characters become ``_``, never a dot file."""
    return UNSAFE.sub("_", participant).lstrip(".") or "participant"


def track_format(kind: str, codec: str, frame: Frame) -> TrackFormat:
    """The stream parameters a first usable frame gives."""
    if kind == "audio":
        return TrackFormat(kind, codec)
    width, height = frame.width, frame.height
    if not width and codec == "vp8":
        width, height = vp8_size(frame.data)
    if not width and codec == "h264":
        width, height = h264_size(frame.data)
    extradata = h264_parameter_sets(frame.data) if codec == "h264" else b""
    return TrackFormat(kind, codec, width, height, extradata)


def h264_size(access_unit: bytes) -> tuple[int, int]:
    """The size the access unit's SPS says, (0, 0) without one or when it does not parse."""
    for unit in nal_units(access_unit):
        if unit[0] & 0x1F == H264_SPS:
            try:
                sps = parse_sps(unit)
            except ValueError:
                return 0, 0
            return sps.width, sps.height
    return 0, 0


class ParticipantFile:
    """``codecs``: the kinds the participant publishes now and their codec (kept by the
    writer); frames come with their time in ms from the recording's start."""

    def __init__(self, participant: str, directory: Path, container: str,
                 ledger: FileLedger, kind: str = "participant") -> None:
        self.participant = participant
        self.kind = kind  # "program": the program file (streaming/program_file.py)
        self.directory = directory
        self.forced = container
        self.ledger = ledger
        self.codecs: dict[str, str] = {}
        self.part = 0
        self.muxer: Muxer | None = None
        self.name = ""
        self._slots: list[tuple[str, str]] = []
        self._formats: dict[str, TrackFormat] = {}
        self._pending: list[Timed] = []
        self._first_at: float | None = None

    def add(self, kind: str, codec: str, frame: Frame, ms: float, now: float) -> None:
        """One frame (a video track's first one is a keyframe); ``now``: node time."""
        if self.muxer is not None:
            if (kind, codec) in self._slots:
                self._write(self._slots.index((kind, codec)), frame, ms)
                return
            self._next_part()
        if kind not in self._formats:
            self._formats[kind] = track_format(kind, codec, frame)
            if self._first_at is None:
                self._first_at = now
        if self._formats[kind].codec == codec:
            self._pending.append(Timed(kind, frame, ms))
        self.tick(now)

    def tick(self, now: float) -> None:
        """Write the header when the tracks are known, or waited for long enough."""
        if self.muxer is not None or self._first_at is None:
            return
        known = all(kind in self._formats for kind in self.codecs)
        if known or now - self._first_at >= HEADER_WAIT_S or len(self._pending) > MAX_PENDING:
            self._open()

    def _open(self) -> None:
        kinds = [kind for kind in KIND_ORDER if kind in self._formats]
        formats = [self._formats[kind] for kind in kinds]
        container = container_for([f.codec for f in formats], self.forced)
        self.part += 1
        suffix = "" if self.part == 1 else f"-{self.part}"
        self.name = f"{file_stem(self.participant)}{suffix}.{container}"
        self.muxer = Muxer(self.directory / self.name, container, formats)
        self._slots = [(f.kind, f.codec) for f in formats]
        self.ledger.put(FileEntry(self.name, self.kind, self.muxer.media_type,
                                  "" if self.kind == "program" else self.participant))
        logger.info("recording %s: %s", self.participant, self.name)
        pending, self._pending = self._pending, []
        if container == "mp4" and "video" in kinds:
            # a fragmented MP4 starts every track at its first sample (no edit list in an
            # empty moov): audio from before the picture would put the two out of step
            start = min(t.ms for t in pending if t.kind == "video")
            pending = [t for t in pending if t.kind == "video" or t.ms >= start]
        for timed in sorted(pending, key=lambda t: t.ms):
            self._write(kinds.index(timed.kind), timed.frame, timed.ms)

    def _write(self, slot: int, frame: Frame, ms: float) -> None:
        assert self.muxer is not None
        self.muxer.write(slot, frame.data, max(ms, 0.0), frame.keyframe)

    def _next_part(self) -> None:
        self.close()
        self.muxer = None
        self._slots = []
        self._formats = {}
        self._first_at = None

    def close(self) -> None:
        """Close the open part (trailer, cues); its duration goes to the ledger."""
        if self.muxer is None:
            return
        muxer, self.muxer = self.muxer, None
        self.ledger.set_duration(self.name, muxer.duration_s)
        muxer.close()
        self._slots = []

    def refresh(self) -> None:
        """Tell the ledger the open part's duration so far."""
        if self.muxer is not None:
            self.ledger.set_duration(self.name, self.muxer.duration_s)
