"""``Lanes``: the order and retry schedule of one target's events on the node delivering them.

Pure (the caller passes the time). One lane per room (events about no room share one): a lane
offers its oldest event only, and only once the one before it was delivered or given up, so a
room's events arrive in order; lanes are independent, so one failing room never holds back
another. A failed attempt waits ``backoff_s`` doubling to ``backoff_max_s``, jittered down by up
to half (so many lanes do not retry in step); an event older than ``give_up_s`` when an
attempt fails is given up (the caller dead-letters it).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from rooms.webhooks.queue import Taken

Outcome = Literal["ok", "retry", "dead"]


@dataclass(frozen=True, slots=True)
class Backoff:
    backoff_s: float = 1.0
    backoff_max_s: float = 600.0
    give_up_s: float = 86_400.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        """The wait after the ``attempts``-th failure (1 s, 2 s, 4 s ... capped, jittered)."""
        full = min(self.backoff_max_s, self.backoff_s * 2.0 ** min(attempts - 1, 60))
        return float(full * (0.5 + rng.random() / 2))


@dataclass
class _Lane:
    events: deque[Taken] = field(default_factory=deque)
    attempts: int = 0
    due: float = 0.0
    busy: bool = False


class Lanes:
    def __init__(self, backoff: Backoff, *, rng: random.Random | None = None) -> None:
        self.backoff = backoff
        self._rng = rng or random.Random()
        self._lanes: dict[str, _Lane] = {}
        self._entries: set[str] = set()

    @property
    def held(self) -> int:
        return len(self._entries)

    def add(self, taken: Taken) -> bool:
        """Queue an event in its room's lane; False if held already (taken twice)."""
        if taken.entry in self._entries:
            return False
        self._entries.add(taken.entry)
        self._lanes.setdefault(taken.event.room, _Lane()).events.append(taken)
        return True

    def ready(self, now: float, limit: int) -> list[Taken]:
        """Up to ``limit`` lane heads due now, marked busy until :meth:`settle`."""
        out: list[Taken] = []
        for lane in self._lanes.values():
            if len(out) >= limit:
                break
            if not lane.busy and lane.events and lane.due <= now:
                lane.busy = True
                out.append(lane.events[0])
        for taken in out:  # served lanes go last: with few free slots, every room gets a turn
            room = taken.event.room
            self._lanes[room] = self._lanes.pop(room)
        return out

    def next_due(self) -> float | None:
        """When the earliest idle lane is due (None: nothing waits)."""
        dues = [lane.due for lane in self._lanes.values() if not lane.busy and lane.events]
        return min(dues) if dues else None

    def attempts(self, taken: Taken) -> int:
        lane = self._lanes.get(taken.event.room)
        return lane.attempts if lane is not None else 0

    def settle(self, taken: Taken, delivered: bool, now: float) -> Outcome:
        """The attempt's outcome: the head goes (ok, dead) or waits its backoff (retry)."""
        lane = self._lanes[taken.event.room]
        lane.busy = False
        if not delivered:
            lane.attempts += 1
            if now - taken.event.created_at < self.backoff.give_up_s:
                lane.due = now + self.backoff.delay(lane.attempts, self._rng)
                return "retry"
        lane.events.popleft()
        self._entries.discard(taken.entry)
        lane.attempts, lane.due = 0, 0.0
        if not lane.events:
            del self._lanes[taken.event.room]
        return "ok" if delivered else "dead"
