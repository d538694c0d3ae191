"""A viewer's request for a quote on a broadcast's product card ("request a quote").

Kept in the Store per room, capped (oldest dropped first), so the exhibitor's staff see every
request whichever node took it: a record for their attention, not a ledger (the trade-meeting
booking flow, :mod:`rooms.trade`, is where a request becomes a meeting).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

QUOTES_PER_ROOM = 200


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    room_id: str
    product_id: str
    product_name: str  # in the requester's language, as the card showed it
    requester: str  # identity
    name: str  # display name
    language: str
    requested_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuoteRequest:
        return cls(room_id=str(data["room_id"]), product_id=str(data["product_id"]),
                   product_name=str(data["product_name"]), requester=str(data["requester"]),
                   name=str(data["name"]), language=str(data["language"]),
                   requested_at=float(data["requested_at"]))
