"""``MemoryWebhookQueue``: the webhook queue of a node without Redis (in process, bounded).

Same behaviour as the Redis queue (one holder per target with a lease, what a holder took and
did not settle goes to the next holder), so one contract test covers both. Nothing survives
the process: a node without Redis that stops loses what it had not delivered (docs/webhooks.md).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from rooms.webhooks.event import WebhookEvent
from rooms.webhooks.queue import DeadLetter, QueueFull, QueueStats, Taken


@dataclass
class _Target:
    fresh: deque[tuple[str, WebhookEvent]] = field(default_factory=deque)  # not taken yet
    taken: dict[str, WebhookEvent] = field(default_factory=dict)  # by entry, in order
    holder: str = ""
    until: float = 0.0
    delivered: int = 0


class MemoryWebhookQueue:
    def __init__(self, *, max_events: int = 100_000, lease_s: float = 15.0,
                 dead_max: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_events = max_events
        self.lease_s = lease_s
        self.dead_max = dead_max
        self._clock = clock
        self._targets: dict[str, _Target] = {}
        self._dead: OrderedDict[str, DeadLetter] = OrderedDict()
        self._seq = 0

    def _of(self, target: str) -> _Target:
        return self._targets.setdefault(target, _Target())

    async def push(self, target: str, event: WebhookEvent) -> None:
        queue = self._of(target)
        if len(queue.fresh) + len(queue.taken) >= self.max_events:
            raise QueueFull(self.max_events)
        self._seq += 1
        queue.fresh.append((str(self._seq), event))

    async def take(self, target: str, consumer: str, count: int) -> list[Taken]:
        queue, now = self._of(target), self._clock()
        if queue.holder not in ("", consumer) and queue.until > now:
            return []
        if queue.holder != consumer:  # taking over: the last holder's unsettled come first
            queue.fresh.extendleft(reversed(list(queue.taken.items())))
            queue.taken.clear()
            queue.holder = consumer
        queue.until = now + self.lease_s
        out: list[Taken] = []
        while queue.fresh and len(out) < count:
            entry, event = queue.fresh.popleft()
            queue.taken[entry] = event
            out.append(Taken(target, entry, event))
        return out

    async def ack(self, taken: Taken) -> None:
        queue = self._of(taken.target)
        if queue.taken.pop(taken.entry, None) is not None:
            queue.delivered += 1

    async def bury(self, taken: Taken, *, reason: str, attempts: int, now: float) -> None:
        if self._of(taken.target).taken.pop(taken.entry, None) is None:
            return
        letter = DeadLetter(f"{taken.event.id}.{taken.target}", taken.target, taken.event,
                            reason, attempts, now)
        self._dead[letter.id] = letter
        mine = [d.id for d in self._dead.values() if d.target == taken.target]
        for dead_id in mine[:max(0, len(mine) - self.dead_max)]:  # per target, oldest first
            del self._dead[dead_id]

    async def release(self, target: str, consumer: str) -> None:
        queue = self._of(target)
        if queue.holder == consumer:
            queue.until = 0.0

    async def dead(self, limit: int = 1_000) -> list[DeadLetter]:
        return list(self._dead.values())[:limit]

    async def dead_ids(self) -> list[str]:
        return list(self._dead)

    async def revive(self, dead_id: str) -> bool:
        letter = self._dead.pop(dead_id, None)
        if letter is None:
            return False
        self._seq += 1
        self._of(letter.target).fresh.append((str(self._seq), letter.event))
        return True

    async def drop(self, dead_id: str) -> bool:
        return self._dead.pop(dead_id, None) is not None

    async def stats(self, target: str) -> QueueStats:
        queue = self._of(target)
        failed = sum(1 for letter in self._dead.values() if letter.target == target)
        return QueueStats(len(queue.fresh) + len(queue.taken), queue.delivered, failed)

    async def aclose(self) -> None:
        return None
