"""RecordingWriter: a recording's writer thread: depacketize, time and mux (issue 15 §1).

The event loop hands it batches of what the recording's taps heard (every ~50 ms, see
:mod:`streaming.recorder`); here each packet goes through its track's depacketizer, each frame
gets its time through the publisher's sender reports (:mod:`streaming.media_clock`), and the
participant's :class:`~streaming.participant_file.ParticipantFile` muxes it. Everything that can
block (PyAV, the disk) happens on this thread; the loop is only told things back through
``call_soon_threadsafe``: a keyframe wanted, a failure (``disk_full``, ``write_error``), the end.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import av

from streaming.channels import channel_language
from streaming.file_ledger import FileLedger
from streaming.frames import Depacketizer, Frame
from streaming.media_clock import ParticipantClock, TrackClock
from streaming.participant_file import ParticipantFile
from streaming.program_file import ProgramFile
from streaming.recording_spec import RecordingSpec
from streaming.rtp_header import RtpHeader

logger = logging.getLogger(__name__)
DISK_CHECK_S = 1.0
KEYFRAME_ASK_S = 0.5  # a video track that waits for a keyframe asks again this often


class TrackOpened(NamedTuple):
    track: int
    participant: str
    kind: str
    codec: str
    clock_rate: int


class TrackClosed(NamedTuple):
    track: int


class Tapped(NamedTuple):
    track: int
    arrival: float
    data: bytes
    header: RtpHeader


class Report(NamedTuple):
    track: int
    arrival: float
    ntp: int
    rtp_ts: int


class Speaker(NamedTuple):
    participant: str | None


Item = TrackOpened | TrackClosed | Tapped | Report | Speaker


class Batch(NamedTuple):
    now: float  # the loop's clock when it was sent
    items: list[Item]


class WriterEvents(Protocol):
    """What the writer tells the loop (each called through ``call_soon_threadsafe``)."""

    def want_keyframe(self, track: int) -> None: ...
    def failed(self, reason: str) -> None: ...


def fault_of(exc: BaseException) -> str:
    """``disk_full`` when ENOSPC is anywhere in the exception's chain, else ``write_error``."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return "disk_full"
        seen = seen.__cause__ or seen.__context__
    return "write_error"


class DiskFull(Exception):
    """Free space fell under the recording's ``min_free_bytes``, or a write hit ENOSPC."""


@dataclass(slots=True)
class TrackState:
    opened: TrackOpened
    depacketizer: Depacketizer
    clock: TrackClock
    file: ParticipantFile
    ssrc: int = -1
    waiting_key: bool = True
    asked_at: float = -1e9
    frames: int = field(default=0)


class RecordingWriter:
    """The thread and its state; feed it with :meth:`put`, end it with :meth:`finish`."""

    def __init__(self, spec: RecordingSpec, t0: float, ledger: FileLedger,
                 depacketizers: Callable[[str], Depacketizer],
                 events: WriterEvents, notify: Callable[..., object]) -> None:
        self.spec = spec
        self.t0 = t0
        self.ledger = ledger
        self.depacketizers = depacketizers
        self.events = events
        self.notify = notify  # loop.call_soon_threadsafe
        self.done = 0  # items handled (only this thread writes it)
        self.discard = False  # set by the loop: drop what is queued (a stop for a fault)
        self._queue: queue.SimpleQueue[Batch | None] = queue.SimpleQueue()
        self._tracks: dict[int, TrackState] = {}
        self._files: dict[str, ParticipantFile] = {}
        self._clocks: dict[str, ParticipantClock] = {}
        self._checked_at = -1e9
        self._failed = False
        self.program = (
            ProgramFile(spec.directory, spec.container, ledger, self._program_keyframe)
            if spec.program else None
        )
        self.thread = threading.Thread(target=self._run, name=f"rec-{spec.rec_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def put(self, batch: Batch) -> None:
        self._queue.put(batch)

    def finish(self) -> None:
        """No more batches: close every file once the queue is drained."""
        self._queue.put(None)

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while (batch := self._queue.get()) is not None:
                if not (self.discard or self._failed):
                    self._guarded(batch)
                self.done += len(batch.items)
        finally:
            self._close_all()

    def _guarded(self, batch: Batch) -> None:
        try:
            self._check_disk(batch.now)
            self._handle(batch)
        except DiskFull as exc:
            self._fail("disk_full", str(exc))
        except (OSError, av.error.FFmpegError) as exc:
            self._fail(fault_of(exc), str(exc))
        except Exception as exc:  # a bug must not leave a thread that never drains its queue
            logger.exception("recording %s: writer failed", self.spec.rec_id)
            self._fail("write_error", repr(exc))

    def _fail(self, reason: str, detail: str) -> None:
        logger.warning("recording %s stops (%s): %s", self.spec.rec_id, reason, detail)
        self._failed = True
        self.notify(self.events.failed, reason)

    def _check_disk(self, now: float) -> None:
        if now - self._checked_at < DISK_CHECK_S:
            return
        self._checked_at = now
        stat = os.statvfs(self.spec.directory)
        free = stat.f_bavail * stat.f_frsize
        if free < self.spec.min_free_bytes:
            raise DiskFull(f"{free} bytes free, under {self.spec.min_free_bytes}")
        for file in self._files.values():
            file.refresh()
        if self.program is not None:
            self.program.refresh()

    def _handle(self, batch: Batch) -> None:
        for item in batch.items:
            if isinstance(item, Tapped):
                self._packet(item)
            elif isinstance(item, Report):
                self._report(item)
            elif isinstance(item, TrackOpened):
                self._open_track(item)
            elif isinstance(item, TrackClosed):
                self._close_track(item)
            elif self.program is not None:
                self.program.speaker_changed(item.participant)
        for file in self._files.values():
            file.tick(batch.now)
        if self.program is not None:
            self.program.tick(batch.now)

    def _open_track(self, opened: TrackOpened) -> None:
        participant = opened.participant
        file = self._files.get(participant)
        if file is None:
            file = ParticipantFile(participant, self.spec.directory, self.spec.container,
                                   self.ledger)
            self._files[participant] = file
        clock = TrackClock(opened.clock_rate, self._clocks.setdefault(participant,
                                                                      ParticipantClock()))
        file.codecs[opened.kind] = opened.codec
        self._tracks[opened.track] = TrackState(
            opened, self.depacketizers(opened.codec), clock, file,
            waiting_key=opened.kind == "video")
        if self.program is not None and channel_language(participant) is None:
            self.program.track_opened(participant, opened.kind, opened.codec, str(opened.track))

    def _close_track(self, closed: TrackClosed) -> None:
        state = self._tracks.pop(closed.track, None)
        if state is None:
            return
        kind = state.opened.kind
        live = any(t.file is state.file and t.opened.kind == kind for t in self._tracks.values())
        if not live:
            state.file.codecs.pop(kind, None)
        if self.program is not None and channel_language(state.opened.participant) is None:
            self.program.track_closed(state.opened.participant, kind, str(closed.track), live)

    def _report(self, report: Report) -> None:
        state = self._tracks.get(report.track)
        if state is not None:
            state.clock.on_sender_report(report.ntp, report.rtp_ts, report.arrival)

    def _packet(self, tapped: Tapped) -> None:
        state = self._tracks.get(tapped.track)
        if state is None:
            return
        if tapped.header.ssrc != state.ssrc:  # a new RTP stream: its own timeline and start
            state.ssrc = tapped.header.ssrc
            state.clock.restart()
            state.waiting_key = state.opened.kind == "video"
        for frame in state.depacketizer.push(tapped.data, tapped.header):
            self._frame(state, frame, tapped.arrival)
        if state.waiting_key or state.depacketizer.want_keyframe:
            self._ask_keyframe(state, tapped.arrival)

    def _frame(self, state: TrackState, frame: Frame, arrival: float) -> None:
        if state.waiting_key:
            if not frame.keyframe:
                return
            state.waiting_key = False
        at = state.clock.time_of(frame.ts, arrival)
        ms = (at - self.t0) * 1000
        state.frames += 1
        opened = state.opened
        state.file.add(opened.kind, opened.codec, frame, ms, arrival)
        if self.program is None or channel_language(opened.participant) is not None:
            return  # an interpretation channel (issue 17) is its own file, never in the program
        if opened.kind == "video":
            self.program.video(opened.participant, opened.codec, frame, ms, arrival)
        else:
            self.program.audio(str(opened.track), frame, ms, arrival)

    def _program_keyframe(self, participant: str) -> None:
        for state in self._tracks.values():
            if state.opened.participant == participant and state.opened.kind == "video":
                self.notify(self.events.want_keyframe, state.opened.track)

    def _ask_keyframe(self, state: TrackState, now: float) -> None:
        if state.opened.kind == "video" and now - state.asked_at >= KEYFRAME_ASK_S:
            state.asked_at = now
            self.notify(self.events.want_keyframe, state.opened.track)

    def _close_all(self) -> None:
        files: list[ParticipantFile | ProgramFile] = list(self._files.values())
        if self.program is not None:
            files.append(self.program)
        for file in files:
            try:
                file.close()
            except (OSError, av.error.FFmpegError) as exc:  # the trailer may not fit either
                logger.warning("recording %s: closing a file: %s", self.spec.rec_id, exc)
