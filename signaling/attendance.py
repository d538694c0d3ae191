"""``Attendance``: who holds each (room, identity) on this node, through which doors.

One person may be in a room several times on one node: two browser tabs (two Socket.IO
sessions), OBS publishing over WHIP beside the studio page, a WHEP player. Presence in the Store
is one record per (room, identity); this registry keeps every holder of it here, so that

- a kick, a deny or a room's end reaches *every* session and media visit of that identity
  (issue 11, finding 3), and
- the person leaves the room (presence removed, ``participant.left``) only when their last
  holder on this node goes.

A holder is any hashable object: a :class:`signaling.session.Session` or a
:class:`signaling.media_door.Visit`. Pure bookkeeping, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterator
from typing import TypeVar

H = TypeVar("H")


class Attendance:
    def __init__(self) -> None:
        self._holders: dict[tuple[str, str], dict[Hashable, None]] = {}  # insertion-ordered
        self.people: Counter[str] = Counter()  # room -> identities held here

    def add(self, room: str, identity: str, holder: Hashable) -> bool:
        """Record ``holder``; true when it is the identity's first holder in ``room`` here."""
        holders = self._holders.get((room, identity))
        if holders is None:
            holders = self._holders[(room, identity)] = {}
            self.people[room] += 1
        first = not holders
        holders[holder] = None
        return first

    def remove(self, room: str, identity: str, holder: Hashable) -> bool:
        """Forget ``holder``; true when the identity has no holder left in ``room`` here."""
        holders = self._holders.get((room, identity))
        if holders is None or holder not in holders:
            return False
        del holders[holder]
        if holders:
            return False
        del self._holders[(room, identity)]
        self.people[room] -= 1
        if self.people[room] <= 0:
            del self.people[room]
        return True

    def holds(self, room: str, identity: str, holder: Hashable) -> bool:
        return holder in self._holders.get((room, identity), {})

    def of(self, room: str, identity: str, kind: type[H]) -> list[H]:
        """The holders of one kind (sessions, visits) of ``identity`` in ``room``."""
        return [h for h in self._holders.get((room, identity), ()) if isinstance(h, kind)]

    def in_room(self, room: str, kind: type[H]) -> Iterator[tuple[str, H]]:
        """(identity, holder) for every holder of ``kind`` in ``room``."""
        for (held_room, identity), holders in list(self._holders.items()):
            if held_room == room:
                for holder in list(holders):
                    if isinstance(holder, kind):
                        yield identity, holder

    def count(self, identity: str, kind: type[H]) -> int:
        """How many holders of ``kind`` the identity has here, over every room."""
        return sum(1 for (_, who), holders in self._holders.items() if who == identity
                   for h in holders if isinstance(h, kind))
