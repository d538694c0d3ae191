"""``Hooks``: where room actions hand over webhook events; it never makes them wait.

:meth:`Hooks.emit` is synchronous: the event goes into a bounded in-memory spool, and one owned
task pushes the spool, in order, into the queue of every target that wants it. While the queue
is unreachable (Redis down) the spool holds events and the task retries with backoff; past
``spool_max`` an event is dropped, logged and counted (:attr:`dropped`). Closing flushes what
it can for a few seconds first, so a node that stops cleanly leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rooms.errors import RoomsError
from rooms.events import Event
from rooms.lifecycle import cancel_and_wait
from rooms.webhooks.catalog import hooks_of
from rooms.webhooks.event import WebhookEvent
from rooms.webhooks.queue import QueueFull, WebhookQueue

log = logging.getLogger(__name__)
RETRY_MAX_S = 2.0
CLOSE_FLUSH_S = 3.0


@dataclass(frozen=True, slots=True)
class Route:
    """One target as the producer sees it: its key and the events it wants (None: all)."""

    key: str
    events: frozenset[str] | None = None

    def wants(self, name: str) -> bool:
        return self.events is None or name in self.events


class Hooks:
    def __init__(self, queue: WebhookQueue, routes: Sequence[Route], *, spool_max: int = 10_000,
                 clock: Callable[[], float] = time.time) -> None:
        self.queue = queue
        self.routes = tuple(routes)
        self.clock = clock
        self.spool_max = spool_max
        self._spool: deque[WebhookEvent] = deque()
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # one flush at a time: the head leaves once
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.queued = 0
        # who else hears each event name and room, targets or not (the organiser's console
        # pushes on a room's changes: web/console.py); called synchronously, must not block
        self.watchers: list[Callable[[str, str], None]] = []

    @property
    def spooled(self) -> int:
        return len(self._spool)

    def emit(self, name: str, data: dict[str, object], *, room: str = "") -> None:
        """Queue event ``name`` for every target that wants it (no target: nothing to do)."""
        self.tell_watchers(name, room)
        if not any(route.wants(name) for route in self.routes):
            return
        try:
            event = WebhookEvent.make(name, dict(data), room=room, now=self.clock())
        except (TypeError, ValueError) as exc:  # a body that cannot be sent: a bug, logged
            log.error("webhook %s not made: %s", name, exc)
            self.dropped += 1
            return
        if len(self._spool) >= self.spool_max:
            log.error("webhook spool full (%d): %s %s dropped", self.spool_max, name, event.id)
            self.dropped += 1
            return
        self._spool.append(event)
        self._wake.set()

    def tell_watchers(self, name: str, room: str) -> None:
        """Only the watchers hear ``name`` (a change with no webhook of its own, such as a room
        created already live: ``room_created``)."""
        for watch in self.watchers:
            watch(name, room)

    def report(self, events: Iterable[Event]) -> None:
        """The webhook events of domain events (rooms/webhooks/catalog.py), queued in order."""
        for event in events:
            for name, room, data in hooks_of(event):
                self.emit(name, data, room=room)

    def start(self) -> None:
        if self.routes and self._task is None:
            self._task = asyncio.create_task(self._run(), name="webhook-spool")

    async def _run(self) -> None:
        pause = 0.05
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
                pause = 0.05
            except Exception as exc:  # Redis down (StoreUnavailable) or worse: retried
                log.warning("webhooks spooled (%d): queue unavailable: %s", len(self._spool), exc)
                await asyncio.sleep(pause)
                pause = min(RETRY_MAX_S, pause * 2)
                self._wake.set()

    async def flush(self) -> None:
        """Push the spool in order; the head stays until every target that wants it has it."""
        async with self._flushing:
            while self._spool:
                event = self._spool[0]
                for route in self.routes:
                    if route.wants(event.name):
                        await self._push(route.key, event)
                self._spool.popleft()
                self.queued += 1

    async def _push(self, target: str, event: WebhookEvent) -> None:
        try:
            await self.queue.push(target, event)
        except QueueFull as exc:  # memory mode at its cap: this target loses it (logged)
            log.error("webhook %s to %s dropped: %s", event.id, target, exc)
            self.dropped += 1

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        with contextlib.suppress(RoomsError, TimeoutError):
            async with asyncio.timeout(CLOSE_FLUSH_S):
                await self.flush()
        if self._spool:
            log.error("%d webhook events not queued at close", len(self._spool))
