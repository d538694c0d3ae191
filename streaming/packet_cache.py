"""A bounded per-track cache of recent publisher packets, indexed by sequence number.

Answers viewers' NACKs (RFC 4585 §6.2.1) without asking the publisher: the slot for a sequence
number is ``seq % size``, so a lookup is one index and a check that the slot still holds that
number, and memory is fixed at ``size`` packets.
"""

from __future__ import annotations


class PacketCache:
    """The last ``size`` packets of one track (plaintext RTP, as received from the publisher)."""

    __slots__ = ("_packets", "_seqs", "_size")

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError("packet cache size must be positive")
        self._size = size
        self._seqs: list[int] = [-1] * size
        self._packets: list[bytes | None] = [None] * size

    def add(self, seq: int, packet: bytes) -> None:
        slot = seq % self._size
        self._seqs[slot] = seq
        self._packets[slot] = packet

    def get(self, seq: int) -> bytes | None:
        """The packet numbered ``seq``, or ``None`` if it was never cached or was evicted."""
        slot = seq % self._size
        if self._seqs[slot] != seq:
            return None
        return self._packets[slot]

    def clear(self) -> None:
        self._seqs = [-1] * self._size
        self._packets = [None] * self._size


class KeyframeCache:
    """The packets since the last keyframe started, so a new viewer's first frame is a keyframe.

    Bounded by ``limit`` packets: a GOP longer than that stops being cached (a viewer then waits
    for the next keyframe, as without a cache) rather than growing memory without end.
    """

    __slots__ = ("_limit", "_overflowed", "packets")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self.packets: list[bytes] = []
        self._overflowed = True

    def start(self, packet: bytes) -> None:
        """A keyframe starts with ``packet``: forget the previous GOP."""
        self.packets = [packet]
        self._overflowed = False

    def append(self, packet: bytes) -> None:
        if self._overflowed:
            return
        if len(self.packets) >= self._limit:
            self.packets = []
            self._overflowed = True
            return
        self.packets.append(packet)

    @property
    def ready(self) -> bool:
        """True when the cache holds a keyframe a viewer can start from."""
        return not self._overflowed and bool(self.packets)
