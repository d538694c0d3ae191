"""``WebhookQueue``: the durable queue of events per target, and its dead-letter list.

Implementations: :class:`~rooms.webhooks.memory_queue.MemoryWebhookQueue` (one node, in process,
bounded) and :class:`~rooms.webhooks.redis_queue.RedisWebhookQueue` (Redis Streams, many nodes);
both pass tests/webhooks/test_queue_contract.py.

One node at a time takes a target's events (``take`` returns nothing to the others), so the
per-room order is one node's to keep (rooms/webhooks/lanes.py). What a node took and did not
acknowledge is taken again by whoever takes the target next (a restart, or another node when
its lease lapses): delivery is at least once, and a duplicate carries the same event id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from rooms.errors import RoomsError
from rooms.webhooks.event import WebhookEvent


def target_key(url: str) -> str:
    """A target's stable key: the first 12 hex digits of its URL's SHA-256 (no secret in it)."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


class QueueFull(RoomsError):
    """The memory queue is at its cap; the event was not queued."""

    fault = "server"

    def __init__(self, limit: int) -> None:
        super().__init__("webhook_queue_full", f"webhook queue full ({limit} events)")


@dataclass(frozen=True, slots=True)
class Taken:
    """An event a node took for one target; ``entry`` names it in the queue."""

    target: str
    entry: str
    event: WebhookEvent


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event given up on for one target: listed, replayed or deleted by the admin API."""

    id: str  # "<event id>.<target key>"
    target: str
    event: WebhookEvent
    reason: str  # the last attempt's outcome: "http_500", "timeout", "connection_error"...
    attempts: int
    dead_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, "event_id": self.event.id,
                "event": self.event.name, "room": self.event.room or None,
                "created_at": self.event.created_at, "reason": self.reason,
                "attempts": self.attempts, "dead_at": self.dead_at,
                "payload": json.loads(self.event.body)}

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "target": self.target, "event": self.event.to_fields(),
                           "reason": self.reason, "attempts": self.attempts,
                           "dead_at": self.dead_at})

    @classmethod
    def from_json(cls, text: str) -> DeadLetter:
        data = json.loads(text)
        return cls(data["id"], data["target"], WebhookEvent.from_fields(data["event"]),
                   data["reason"], int(data["attempts"]), float(data["dead_at"]))


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int  # queued, not yet acknowledged or dead
    delivered: int  # acknowledged by the receiver (since the queue began)
    failed: int  # dead letters now listed


class WebhookQueue(Protocol):
    async def push(self, target: str, event: WebhookEvent) -> None:
        """Queue ``event`` for ``target`` (after everything queued before it)."""
        ...

    async def take(self, target: str, consumer: str, count: int) -> list[Taken]:
        """Up to ``count`` events of ``target`` that ``consumer`` has not taken yet, oldest
        first; nothing while another consumer holds the target. The first call after taking
        the target over also returns what its previous holder took and did not settle."""
        ...

    async def ack(self, taken: Taken) -> None:
        """Delivered: gone from the queue."""
        ...

    async def bury(self, taken: Taken, *, reason: str, attempts: int, now: float) -> None:
        """Given up: gone from the queue, kept in the dead-letter list."""
        ...

    async def release(self, target: str, consumer: str) -> None:
        """``consumer`` stops taking ``target`` (closing): another may take it at once."""
        ...

    async def dead(self, limit: int = 1_000) -> list[DeadLetter]:
        """Dead letters, oldest first."""
        ...

    async def dead_ids(self) -> list[str]:
        """Every dead letter's id, oldest first (ids only: cheap to list in full)."""
        ...

    async def revive(self, dead_id: str) -> bool:
        """Queue a dead letter again (same id and body), out of the list; False if unknown."""
        ...

    async def drop(self, dead_id: str) -> bool:
        """Delete a dead letter; False if unknown."""
        ...

    async def stats(self, target: str) -> QueueStats: ...

    async def aclose(self) -> None: ...
