"""Per-session event limits: a token bucket, and the rule that turns a flood into a disconnect.

Every event a client sends takes one token (``events_per_second``, ``event_burst`` from
:class:`config.SignalingLimits`). An event without a token is refused with an error ack, and so is
one that finds the mailbox full; both are *strikes*. Refusals are cheap, so a client that slows
down once refused loses nothing; one that keeps sending regardless (``max_strikes`` refusals in a
row, with no accepted event between) is a flood and gets disconnected (DESIGN.md §6).
Pure arithmetic over a clock reading; the session supplies the time.
"""

from __future__ import annotations

from rooms.rate import Rate, TokenBucket


class Throttle:
    def __init__(self, per_second: float, burst: int, now: float, *, max_strikes: int) -> None:
        self._bucket = TokenBucket(Rate(per_second, burst), now)
        self.max_strikes = max_strikes
        self.strikes = 0  # refusals in a row
        self.refused = 0  # refusals in total (for metrics and logs)

    def admit(self, now: float) -> float:
        """0.0 if the event may go ahead, else the seconds until one would (a strike)."""
        wait = self._bucket.take(now)
        if wait > 0:
            self.strike()
        return wait

    def accepted(self) -> None:
        """An event got through every check: the run of refusals is over."""
        self.strikes = 0

    def strike(self) -> None:
        self.strikes += 1
        self.refused += 1

    @property
    def flooding(self) -> bool:
        return self.strikes >= self.max_strikes
