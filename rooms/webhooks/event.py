"""One webhook event: its id (the idempotency key), name, time, room and JSON body.

The body is serialised once, when the event is made, and stored as text: every attempt to every
target sends the same bytes, so a receiver that de-duplicates on ``id`` sees identical copies.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

MAX_BODY_BYTES = 64_000  # a recording with many files stays far below it


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    name: str
    created_at: float  # epoch seconds
    room: str  # "" for an event about no room
    body: str  # the JSON text POSTed

    @classmethod
    def make(cls, name: str, data: dict[str, Any], *, room: str = "", now: float) -> WebhookEvent:
        """A new event: ``{"id", "event", "created_at", "room"?, **data}``."""
        event_id = "evt_" + secrets.token_hex(12)
        payload: dict[str, Any] = {"id": event_id, "event": name, "created_at": round(now, 3)}
        if room:
            payload["room"] = room
        payload.update(data)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
        if len(body.encode()) > MAX_BODY_BYTES:
            raise ValueError(f"webhook {name} body over {MAX_BODY_BYTES} bytes")
        return cls(event_id, name, now, room, body)

    def to_fields(self) -> dict[str, str]:
        """The stored form (a Redis stream entry's fields)."""
        return {"id": self.id, "name": self.name, "created_at": repr(self.created_at),
                "room": self.room, "body": self.body}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> WebhookEvent:
        return cls(fields["id"], fields["name"], float(fields["created_at"]), fields["room"],
                   fields["body"])
