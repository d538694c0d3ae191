"""``TimelineWriter``: a recorded room's chat and product pins, kept for the replay (issue 15 §5).

While a room records, each chat message and each pin/unpin is appended to the recording's
timeline with its offset from the recording's start, so the replay shows them along the video.
Captured where the node emits them (``Hub.announce`` for chat, ``room_events.announce_pin`` for
pins), on the node that handled the event, whichever node records.

Nothing here may slow the event it follows: :meth:`chat` and :meth:`pin` only queue (bounded;
a full queue drops the entry with a log line, the room goes on), and one owned task appends in
batches, one Store write per room per batch. Which recording a room has is cached for
:data:`ACTIVE_TTL_S` (a recording started on another node is seen within that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from rooms.content import ChatMessage
from rooms.lifecycle import cancel_and_wait
from rooms.recording import Recording, RecordingState, TimelineEntry, TimelineKind
from rooms.store import Store

log = logging.getLogger(__name__)
QUEUE = 2_048
BATCH = 256
ACTIVE_TTL_S = 2.0
Pending = tuple[str, float, TimelineKind, dict[str, Any]]  # room, epoch s, kind, data


class TimelineWriter:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._queue: asyncio.Queue[Pending] = asyncio.Queue(QUEUE)
        self._active: dict[str, tuple[float, Recording | None]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="recording-timeline")

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    def chat(self, message: ChatMessage) -> None:
        self._put((message.room_id, message.sent_at or self.clock(), TimelineKind.CHAT,
                   {"id": message.id, "sender": message.sender, "name": message.name,
                    "text": message.text}))

    def pin(self, room_id: str, product_id: str, pinned: bool,
            product: dict[str, Any] | None) -> None:
        data: dict[str, Any] = {"product_id": product_id}
        if pinned:
            data["product"] = product
        self._put((room_id, self.clock(), TimelineKind.PIN if pinned else TimelineKind.UNPIN,
                   data))

    def forget(self, room_id: str) -> None:
        """The room's recording started or stopped here: look it up again."""
        self._active.pop(room_id, None)

    def _put(self, item: Pending) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("timeline queue full: a %s of room %s is not kept", item[2], item[0])

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            with contextlib.suppress(Exception):  # the Store is down: these entries are lost
                await self._write(batch)

    async def _write(self, batch: list[Pending]) -> None:
        by_room: dict[str, list[Pending]] = {}
        for item in batch:
            by_room.setdefault(item[0], []).append(item)
        for room_id, items in by_room.items():
            recording = await self.running(room_id)
            if recording is None:
                continue
            entries = [TimelineEntry(at - recording.started_at, kind, data)
                       for _, at, kind, data in items if at >= recording.started_at]
            if entries:
                await self.store.append_timeline(recording.id, entries)

    async def running(self, room_id: str) -> Recording | None:
        """The room's running recording, as the Store said at most :data:`ACTIVE_TTL_S` ago."""
        now = time.monotonic()
        cached = self._active.get(room_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        running = next((r for r in await self.store.list_recordings(room=room_id)
                        if r.state is RecordingState.RECORDING), None)
        self._active[room_id] = (now + ACTIVE_TTL_S, running)
        if len(self._active) > 4 * QUEUE:  # rooms come and go: keep the cache bounded
            self._active = {k: v for k, v in self._active.items() if v[0] > now}
        return running
