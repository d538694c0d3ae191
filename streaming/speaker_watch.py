"""``SpeakerWatch``: the plane's one task that turns audio levels into active-speaker changes.

Every ``tick_ms`` it takes each measured audio Source's :class:`~streaming.audio_level.LevelMeter`
(the intake fills them per packet), groups them by participant and room, and feeds each room's
:class:`~streaming.speaker.SpeakerDetector`. A change goes to ``emit`` (the plane's listeners;
signaling/media_link.py sends ``speaker.changed`` to the room on every node). It runs on the
node that holds the room's media, where the publishers' packets arrive; an edge's relayed
Sources are not measured (their origin decides). Cost: O(audio Sources) per tick, no I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

from streaming.source import Source
from streaming.speaker import Activity, SpeakerChange, SpeakerDetector, SpeakerRules

logger = logging.getLogger(__name__)

Rooms = Callable[[], Mapping[str, Mapping[str, Source]]]
ChangeSink = Callable[[str, SpeakerChange], None]


def room_activity(sources: Mapping[str, Source], tick_ms: float) -> dict[str, Activity]:
    """Each measured participant's loud time in this tick (their loudest audio track)."""
    activity: dict[str, Activity] = {}
    for source_id, source in sources.items():
        meter = source.levels
        if meter is None or source.ended.is_set() or source.booth is not None:
            continue  # an interpreter is nobody's active speaker (issue 17)
        packets, loud, loudest = meter.take()
        loud_ms = tick_ms * loud / packets if packets else 0.0
        participant = source_id.rsplit("/", 1)[0]
        known = activity.get(participant)
        if known is None or loud_ms > known.loud_ms:
            activity[participant] = Activity(loud_ms, loudest)
    return activity


class SpeakerWatch:
    """Per-room detectors over the plane's Sources; :meth:`start` once, :meth:`aclose` on close."""

    def __init__(self, rules: SpeakerRules, rooms: Rooms, emit: ChangeSink) -> None:
        self.rules = rules
        self._rooms = rooms
        self._emit = emit
        self.detectors: dict[str, SpeakerDetector] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="speakers")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.rules.tick_ms / 1000)
            try:
                self.tick(loop.time() * 1000)
            except Exception:  # one bad tick must not end detection for every room
                logger.exception("active speaker detection failed")

    def tick(self, now_ms: float) -> None:
        """Look at every room once (also called directly by tests)."""
        rooms = self._rooms()
        for room in [r for r in self.detectors if r not in rooms]:
            self._observe(room, self.detectors.pop(room), now_ms, {})
        for room, sources in rooms.items():
            activity = room_activity(sources, self.rules.tick_ms)
            detector = self.detectors.get(room)
            if detector is None:
                if not activity:
                    continue
                detector = self.detectors[room] = SpeakerDetector(self.rules)
            self._observe(room, detector, now_ms, activity)
            if not activity and detector.active is None:
                del self.detectors[room]

    def _observe(self, room: str, detector: SpeakerDetector, now_ms: float,
                 activity: dict[str, Activity]) -> None:
        change = detector.observe(now_ms, activity)
        if change is not None:
            self._emit(room, change)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
