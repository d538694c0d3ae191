"""Quote requests from viewers ("request a quote" on a pinned product card), kept per room.

Until trade-meeting booking lands (its issue gives the request a full flow: slots, accept,
decline), a request is recorded here and shown live to the room's staff. It is per node and
bounded (oldest dropped first): a record for the exhibitor's attention, not a ledger.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import asdict, dataclass
from typing import Any

PER_ROOM = 200
ROOMS = 1_000


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    room_id: str
    product_id: str
    product_name: str
    requester: str  # identity
    name: str  # display name
    language: str
    requested_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class QuoteLog:
    """The latest :data:`PER_ROOM` requests of the latest :data:`ROOMS` rooms."""

    def __init__(self, per_room: int = PER_ROOM, rooms: int = ROOMS) -> None:
        self.per_room = per_room
        self.rooms = rooms
        self._by_room: OrderedDict[str, deque[QuoteRequest]] = OrderedDict()

    def add(self, request: QuoteRequest) -> None:
        log = self._by_room.pop(request.room_id, None) or deque(maxlen=self.per_room)
        log.append(request)
        self._by_room[request.room_id] = log
        while len(self._by_room) > self.rooms:
            self._by_room.popitem(last=False)

    def of_room(self, room_id: str) -> list[QuoteRequest]:
        """Oldest first."""
        return list(self._by_room.get(room_id, ()))
