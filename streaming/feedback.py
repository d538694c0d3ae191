"""Keyframe-request merging and throttling (RFC 4585 §6.3.1 PLI, RFC 5104 §4.3.1 FIR).

Many viewers losing a picture at once must not become many PLIs to the publisher: requests for
one track are merged, and at most one goes out per ``interval_s``. A request inside the window
is remembered and sent when the window ends, so the last viewer to ask is not forgotten.
"""

from __future__ import annotations


class KeyframeRequests:
    """Throttle state for one track; the caller supplies the clock (pure, testable)."""

    __slots__ = ("_interval", "_last_sent", "pending", "sent")

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError("keyframe request interval must be positive")
        self._interval = interval_s
        self._last_sent = float("-inf")
        self.pending = False
        self.sent = 0

    def request(self, now: float) -> bool:
        """A viewer asked for a keyframe at ``now``; True if a PLI should go out now."""
        if now - self._last_sent >= self._interval:
            self._last_sent = now
            self.pending = False
            self.sent += 1
            return True
        self.pending = True
        return False

    def due_in(self, now: float) -> float:
        """Seconds until a pending request may be sent (0 when it may go now)."""
        return max(0.0, self._last_sent + self._interval - now)

    def flush(self, now: float) -> bool:
        """True if a pending request should go out now (called when the window ends)."""
        if self.pending and now - self._last_sent >= self._interval:
            return self.request(now)
        return False
