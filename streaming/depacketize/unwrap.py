"""RTP sequence numbers and timestamps extended past their wrap (RFC 3550 §A.1).

A 16-bit sequence number wraps every ~22 minutes of 50 pkt/s audio and a 32-bit 90 kHz
timestamp every ~13 hours: a recording outlives both, and a muxer needs times that only grow.
"""

from __future__ import annotations

# A packet this far behind the highest sequence number is no reordering or retransmission (the
# NACK cache holds ~1000 packets): its sender restarted its numbering (RFC 3550 §A.1 "restart")
FAR_BEHIND = 4096


class Unwrapper:
    """Extends a counter of ``bits`` bits to an unbounded integer.

    The first value is kept as is. A later value is read as the nearest one to the highest seen
    so far (RFC 3550 §A.1's test: less than half the range ahead is "ahead", else "late"), so a
    reordered or retransmitted packet unwraps below the highest instead of starting a new cycle.
    """

    __slots__ = ("_half", "_highest", "_modulus")

    def __init__(self, bits: int) -> None:
        self._modulus = 1 << bits
        self._half = 1 << (bits - 1)
        self._highest: int | None = None

    @property
    def highest(self) -> int | None:
        return self._highest

    def unwrap(self, value: int) -> int:
        """``value`` (``0 <= value < 2**bits``) as an unbounded integer."""
        highest = self._highest
        if highest is None:
            self._highest = value
            return value
        delta = (value - highest) % self._modulus
        if delta >= self._half:
            return highest + delta - self._modulus
        self._highest = highest + delta
        return highest + delta
