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

    def since(self, now: float) -> float:
        """Seconds since the last request went out (inf: never)."""
        return now - self._last_sent

    def due_in(self, now: float) -> float:
        """Seconds until a pending request may be sent (0 when it may go now)."""
        return max(0.0, self._last_sent + self._interval - now)

    def flush(self, now: float) -> bool:
        """True if a pending request should go out now (called when the window ends)."""
        if self.pending and now - self._last_sent >= self._interval:
            return self.request(now)
        return False


class NackWindow:
    """Merges NACKs for one track before they go upstream (issue 13 §3, RFC 4585 §6.2.1).

    An edge answers its viewers' NACKs from its own packet cache; a packet it lacks is asked of
    its origin. Many viewers missing the same packet must not become many requests: a sequence
    number asked within the last ``window_s`` is not asked again. At most ``size`` numbers are
    remembered (the oldest go first), so the state stays bounded. Pure: the caller's clock.
    """

    __slots__ = ("_asked", "_size", "_window", "merged")

    def __init__(self, window_s: float, size: int = 1024) -> None:
        if window_s <= 0:
            raise ValueError("NACK merge window must be positive")
        self._window = window_s
        self._size = size
        self._asked: dict[int, float] = {}  # seq -> when asked, oldest first
        self.merged = 0  # requests not sent because one was already under way

    def fresh(self, seqs: list[int], now: float) -> list[int]:
        """The numbers of ``seqs`` to ask upstream now (each once, in the given order)."""
        self._expire(now)
        out = []
        for seq in dict.fromkeys(seqs):
            if seq in self._asked:
                self.merged += 1
                continue
            out.append(seq)
            self._asked[seq] = now
            if len(self._asked) > self._size:
                del self._asked[next(iter(self._asked))]
        return out

    def _expire(self, now: float) -> None:
        while self._asked:
            seq, at = next(iter(self._asked.items()))
            if now - at < self._window:
                return
            del self._asked[seq]
