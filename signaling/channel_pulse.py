"""Coalesced ``channels.changed`` for listener counts (issue 17: "listeners pushed").

Every subscribe, unsubscribe, leave or disconnect of a channel's listener changes that
channel's ``listeners``; announcing each one would send a thousand room-wide broadcasts when a
thousand delegates pick a language at the opening. :class:`ListenerPulse` turns the changes of a
room into at most one call per ``interval_s``: the first change arms one timer task for the
room, later ones until it fires are absorbed, and the call reads the count as it is then.
Timers are owned (cancelled by :meth:`ListenerPulse.aclose`) and bounded (``max_rooms``: past
it a change is dropped with a log line, and the room's next change or ``channels.changed`` for
another reason carries the count).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from rooms.lifecycle import cancel_and_wait

log = logging.getLogger(__name__)


class ListenerPulse:
    def __init__(self, send: Callable[[str], Awaitable[None]], *, interval_s: float,
                 max_rooms: int) -> None:
        self._send = send
        self.interval_s = interval_s
        self.max_rooms = max_rooms
        self._timers: dict[str, asyncio.Task[None]] = {}  # room -> its armed timer
        self._closed = False

    def touch(self, room: str) -> None:
        """A listener count of ``room`` changed (synchronous: called from the plane's report)."""
        if self._closed or room in self._timers:
            return
        if len(self._timers) >= self.max_rooms:
            log.warning("listener counts of %s not pushed: %d rooms pending", room,
                        len(self._timers))
            return
        self._timers[room] = asyncio.create_task(self._fire(room), name=f"listeners-{room}")

    @property
    def pending(self) -> int:
        return len(self._timers)

    async def _fire(self, room: str) -> None:
        try:
            await asyncio.sleep(self.interval_s)
        finally:
            self._timers.pop(room, None)  # a change from now on arms the next push
        try:
            await self._send(room)
        except Exception:  # one room's failure never stops the others' pushes
            log.exception("listener counts of %s not pushed", room)

    async def aclose(self) -> None:
        self._closed = True
        for task in list(self._timers.values()):
            await cancel_and_wait(task)
        self._timers.clear()
