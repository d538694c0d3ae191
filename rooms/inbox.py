"""A bounded inbox of bus messages, shared by both Bus implementations.

When a subscriber falls behind, the oldest message is dropped and counted: the bus is at most
once anyway (DESIGN.md §5), and a slow reader must never grow memory or block the publisher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rooms.bus import BusMessage


class QueueInbox:
    """Messages for a set of topics; ``aclose()`` detaches it from its bus."""

    def __init__(self, topics: frozenset[str], maxsize: int,
                 on_close: Callable[[QueueInbox], None]) -> None:
        if maxsize < 1:
            raise ValueError("a subscription needs room for at least one message")
        self.topics = topics
        self._queue: asyncio.Queue[BusMessage] = asyncio.Queue(maxsize)
        self._on_close = on_close
        self._dropped = 0
        self.closed = False

    @property
    def dropped(self) -> int:
        return self._dropped

    def deliver(self, message: BusMessage) -> None:
        """Called by the bus; never blocks (drops the oldest message when full)."""
        if self.closed:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self._dropped += 1
        self._queue.put_nowait(message)

    async def get(self) -> BusMessage:
        return await self._queue.get()

    def get_nowait(self) -> BusMessage | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            self._on_close(self)
