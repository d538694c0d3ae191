"""Token-bucket rate limits per participant and action (DESIGN.md §6: limits on everything).

:class:`TokenBucket` is pure arithmetic over a clock reading. :class:`RateLimits` keeps one bucket
per (room, identity, action) in a bounded LRU, so a flood of identities cannot grow memory.
Buckets are per node: a participant talks to one node at a time, so no shared state is needed.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rooms.clock import Clock
from rooms.errors import RateLimited

MAX_BUCKETS = 50_000


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_second`` tokens refill continuously up to ``burst``."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate needs per_second > 0 and burst >= 1")


class TokenBucket:
    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self._tokens = float(rate.burst)
        self._stamp = now

    def take(self, now: float, cost: float = 1.0) -> float:
        """Take ``cost`` tokens and return 0.0, or return the seconds until they would be there."""
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self.rate.burst), self._tokens + elapsed * self.rate.per_second)
        self._stamp = now
        if self._tokens >= cost:
            self._tokens -= cost
            return 0.0
        return (cost - self._tokens) / self.rate.per_second


class RateLimits:
    """Buckets keyed by (room, identity) then action, each action with its own :class:`Rate`."""

    def __init__(self, rates: dict[str, Rate], clock: Clock, *, max_buckets: int = MAX_BUCKETS):
        self._rates = dict(rates)
        self._clock = clock
        self._max = max_buckets
        self._buckets: OrderedDict[tuple[str, str], dict[str, TokenBucket]] = OrderedDict()

    def check(self, room_id: str, identity: str, action: str) -> None:
        """Spend one token of ``action`` or raise :class:`RateLimited` (nothing is spent)."""
        rate = self._rates[action]
        now = self._clock.now()
        key = (room_id, identity)
        per_action = self._buckets.get(key)
        if per_action is None:
            per_action = self._buckets[key] = {}
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)  # least recently used participant
        self._buckets.move_to_end(key)
        bucket = per_action.setdefault(action, TokenBucket(rate, now))
        wait = bucket.take(now)
        if wait > 0:
            raise RateLimited(action, wait)

    def __len__(self) -> int:
        """Participants with buckets (bounded by ``max_buckets``)."""
        return len(self._buckets)

    def forget(self, room_id: str, identity: str) -> None:
        """Drop a participant's buckets (on leave)."""
        self._buckets.pop((room_id, identity), None)
