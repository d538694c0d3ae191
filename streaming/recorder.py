"""Recording: one room's recording, on the event loop side (issue 15 §1, docs/recordings.md).

It taps the best layer of every video Source and every audio Source of the room, now and as
they appear (:meth:`Recording.add_source`). The taps are the hot loop's only cost: one tuple
appended to a list per packet. Every ``BATCH_S`` the list goes to the writer thread
(:mod:`streaming.recording_writer`), which depacketizes, times and muxes. What waits for the
writer is bounded: more than ``queue_frames × PACKETS_PER_FRAME`` items behind (a slow disk)
stops the recording with ``slow_disk``; the room and its viewers never notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from streaming.file_ledger import FileLedger
from streaming.frames import Depacketizer
from streaming.recording_spec import RecordedFile, RecordingEnded, RecordingSpec
from streaming.recording_writer import (
    Batch,
    Item,
    RecordingWriter,
    Report,
    Speaker,
    Tapped,
    TrackClosed,
    TrackOpened,
)
from streaming.rtp_header import RtpHeader
from streaming.source import Source

logger = logging.getLogger(__name__)
BATCH_S = 0.05
PACKETS_PER_FRAME = 4  # queue_frames counts frames; a video frame is a few packets
FINISH_TIMEOUT_S = 15.0  # a writer stuck on a dead disk is not waited for longer


class RecordingTap:
    """A :class:`~streaming.tap.PacketTap` of one Source layer for one recording."""

    def __init__(self, recording: Recording, track: int, source: Source, index: int) -> None:
        self.recording = recording
        self.track = track
        self.source = source
        self.index = index

    def on_rtp(self, data: bytes, h: RtpHeader) -> None:
        rec = self.recording
        if len(rec.buffer) < rec.limit:
            rec.buffer.append(Tapped(self.track, rec.loop.time(), data, h))
        else:
            rec.overflowed = True  # the pump stops the recording (slow_disk)

    def on_sender_report(self, ntp: int, rtp_ts: int) -> None:
        rec = self.recording
        rec.buffer.append(Report(self.track, rec.loop.time(), ntp, rtp_ts))

    def on_end(self) -> None:
        self.recording.source_ended(self)


class Recording:
    """One running recording; ``on_end`` hears its :class:`RecordingEnded` once."""

    def __init__(self, spec: RecordingSpec, depacketizers: Callable[[str], Depacketizer],
                 on_end: Callable[[RecordingEnded], None]) -> None:
        self.spec = spec
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.on_end = on_end
        self.buffer: list[Item] = []
        self.limit = spec.queue_frames * PACKETS_PER_FRAME
        self.sent = 0  # items handed to the writer (only the loop writes it)
        self.overflowed = False
        self.taps: dict[int, RecordingTap] = {}
        self._next_track = 0
        spec.directory.mkdir(parents=True, exist_ok=True)
        self.ledger = FileLedger(spec.directory)
        self.writer = RecordingWriter(spec, self.t0, self.ledger, depacketizers, self,
                                      self.loop.call_soon_threadsafe)
        self.writer.start()
        self._ended: asyncio.Future[RecordingEnded] = self.loop.create_future()
        self._stopping = False
        self._stop_task: asyncio.Task[RecordingEnded] | None = None
        self._pump = self.loop.create_task(self._pump_batches())

    @property
    def rec_id(self) -> str:
        return self.spec.rec_id

    @property
    def stopping(self) -> bool:
        """Asked to stop, or stopped by a fault: no longer recording, files closing."""
        return self._stopping

    def add_source(self, source: Source) -> None:
        """Record ``source`` (its best layer for video) from now on."""
        if self._stopping or source.ended.is_set():
            return
        participant = source.source_id.rsplit("/", 1)[0]
        track = self._next_track
        self._next_track += 1
        self.buffer.append(TrackOpened(track, participant, source.kind, source.codec.name,
                                       source.codec.clock_rate))
        tap = RecordingTap(self, track, source, 0)
        self.taps[track] = tap
        tap.index = source.add_tap(tap)  # asks the publisher for a keyframe

    def speaker_changed(self, participant: str | None) -> None:
        """The room's active speaker (the program file follows it, issue 15 §4)."""
        self.buffer.append(Speaker(participant))

    def source_ended(self, tap: RecordingTap) -> None:
        if self.taps.pop(tap.track, None) is not None:
            self.buffer.append(TrackClosed(tap.track))

    # -- writer events (on the loop, via call_soon_threadsafe) -------------------------------

    def want_keyframe(self, track: int) -> None:
        tap = self.taps.get(track)
        if tap is not None:
            tap.source.request_keyframe(tap.index)

    def failed(self, reason: str) -> None:
        if not self._stopping and self._stop_task is None:
            self._stop_task = self.loop.create_task(self.stop(reason))

    # -- batches ------------------------------------------------------------------------------

    async def _pump_batches(self) -> None:
        while True:
            await asyncio.sleep(BATCH_S)
            if self.overflowed or self.sent - self.writer.done + len(self.buffer) > self.limit:
                self.failed("slow_disk")
                return
            self._send()

    def _send(self) -> None:
        items, self.buffer = self.buffer, []
        self.sent += len(items)
        self.writer.put(Batch(self.loop.time(), items))

    # -- the end ------------------------------------------------------------------------------

    def files(self) -> tuple[RecordedFile, ...]:
        return self.ledger.files()

    async def stop(self, reason: str = "") -> RecordingEnded:
        """Untap, let the writer close its files (in its thread), and say how it ended."""
        if self._stopping:
            return await asyncio.shield(self._ended)
        self._stopping = True
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        for tap in list(self.taps.values()):
            tap.source.remove_tap(tap)
        self.taps.clear()
        if reason in ("slow_disk", "disk_full", "write_error"):
            self.writer.discard = True  # what still waits would fail the same way
        else:
            self._send()
        self.writer.finish()
        await self._join()
        ended = RecordingEnded(self.rec_id, self.spec.room, reason, self.files(),
                               round(self.loop.time() - self.t0, 3))
        self._ended.set_result(ended)
        self.on_end(ended)
        return ended

    async def _join(self) -> None:
        thread = self.writer.thread
        try:
            await asyncio.wait_for(asyncio.to_thread(thread.join), FINISH_TIMEOUT_S)
        except TimeoutError:
            logger.error("recording %s: the writer did not finish in %.0f s",
                         self.rec_id, FINISH_TIMEOUT_S)
