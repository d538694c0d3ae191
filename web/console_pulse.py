"""The console's pushes on change (issue 18 §2 follow-up): a room going live or ending, a track
published or unpublished reaches every organiser's console at once, on every node, instead of
at the next 2 s tick.

The node where it happened hears it from its webhook producer (``Hooks.watchers``: every event
name and room, targets or not), reports its rooms' health at once (so the new publisher is in
the store), tells the other nodes on the bus (``CHANGES_TOPIC``, one small message) and pushes
to its consoles; another node pushes to its own when the message comes. A :class:`Pulse`
coalesces: however many changes come, at most one run per ``interval_s``, and a change during
a run gets one more run after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from rooms.bus import check_topic
from rooms.lifecycle import cancel_and_wait

log = logging.getLogger(__name__)
CHANGES_TOPIC = check_topic("room:*")  # no room is named "*": the one topic about every room
CHANGED = "console.changed"
CHANGE_KINDS = frozenset({"room_created", "room_started", "room_finished", "track_published",
                          "track_unpublished"})  # room_created: made live (admin API), no hook
PUSH_INTERVAL_S = 0.25  # at most one pushed snapshot per console in this time


class Pulse:
    """Runs ``run`` after :meth:`touch`, at most once per ``interval_s`` (one owned task)."""

    def __init__(self, run: Callable[[], Awaitable[None]], interval_s: float, name: str) -> None:
        self._run = run
        self.interval_s = interval_s
        self.name = name
        self.runs = 0
        self._wake = asyncio.Event()
        self._last = float("-inf")
        self._task: asyncio.Task[None] | None = None

    def touch(self) -> None:
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            wait = self._last + self.interval_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # touches meanwhile fold into this one run
            self._wake.clear()
            self._last = loop.time()
            self.runs += 1
            try:
                await self._run()
            except Exception:  # a failed push must not end the pulse; the 2 s tick goes on
                log.exception("console push failed")

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
