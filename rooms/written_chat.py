"""``WrittenChat``: the chat this node wrote to the rooms' streams in the last seconds.

Redis acknowledges a write before it is durable: a Redis restarted from an older snapshot, or
empty (no persistence), no longer holds what it acknowledged last. A node that reads a room's
stream a moment after another wrote to it (signaling/chat_tail.py) misses what was written in
that moment, and members were told their message was sent (issue 13 §6: "every acknowledged
message reaches every member"). So each node keeps what it wrote for ``keep_s`` (bounded per
room); after an outage the flusher (rooms/journal_flusher.py) asks the Store which of them it
lost and writes those again, ahead of anything accepted meanwhile, under their first id.

Bounded: ``per_room`` messages per room and ``keep_s`` of age; a room with nothing recent is
dropped at :meth:`recent` or every ``SWEEP_EVERY`` writes (a write prunes only its own room).
While an outage lasts (:meth:`hold`, until :meth:`release`) age counts up to its start, not up
to now: what was written in the seconds before a 70 s outage is still checked when it ends.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from rooms.content import ChatMessage

KEEP_S = 10.0  # far longer than another node's tail takes to read a write (~1 ms, 100s loaded)
PER_ROOM = 512
SWEEP_EVERY = 256


class WrittenChat:
    def __init__(self, *, keep_s: float = KEEP_S, per_room: int = PER_ROOM,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keep_s = keep_s
        self.per_room = per_room
        self._clock = clock
        self._rooms: dict[str, deque[tuple[float, ChatMessage]]] = {}
        self._writes = 0
        self._held_at: float | None = None  # when the outage under way began (hold)

    def wrote(self, message: ChatMessage) -> None:
        """``message`` is in its room's stream now (Redis acknowledged it)."""
        kept = self._rooms.get(message.room_id)
        if kept is None:
            kept = self._rooms[message.room_id] = deque(maxlen=self.per_room)
        now = self._clock()
        kept.append((now, message))
        while kept[0][0] < self._oldest():
            kept.popleft()
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self._prune()

    def recent(self) -> dict[str, list[ChatMessage]]:
        """Every room's messages written in the last ``keep_s``, oldest first."""
        self._prune()
        return {room: [m for _, m in kept] for room, kept in self._rooms.items()}

    def forget(self, messages: list[ChatMessage]) -> None:
        """These are being written again (the journal holds them now)."""
        gone = {(m.room_id, m.id) for m in messages}
        for room in {m.room_id for m in messages}:
            kept = self._rooms.get(room)
            if kept is not None:
                left = [(t, m) for t, m in kept if (room, m.id) not in gone]
                self._rooms[room] = deque(left, maxlen=self.per_room)
        self._prune()

    def hold(self) -> None:
        """An outage began (or goes on): stop the clock of age at its first call."""
        if self._held_at is None:
            self._held_at = self._clock()

    def release(self) -> None:
        """The outage's aftermath is checked: age counts up to now again."""
        self._held_at = None

    def _oldest(self) -> float:
        until = self._held_at if self._held_at is not None else self._clock()
        return until - self.keep_s

    def _prune(self) -> None:
        oldest = self._oldest()
        for room in list(self._rooms):
            kept = self._rooms[room]
            while kept and kept[0][0] < oldest:
                kept.popleft()
            if not kept:
                del self._rooms[room]

    def __len__(self) -> int:
        return sum(len(kept) for kept in self._rooms.values())
