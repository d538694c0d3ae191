"""The ``Bus`` port: node-to-node control messages, at most once (DESIGN.md §5).

Topics are node-scoped (``node:<id>``, e.g. "kick this session you hold") or room-scoped
(``room:<id>``, e.g. "the product pinned changed"). Every message carries its ``origin`` node,
and a bus never delivers a node's own messages back to it (the echo), like python-socketio's
pub/sub managers. Anything that must not be lost is written to the Store first; the bus only
says "look again".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from rooms.errors import InvalidInput

_TOPIC = re.compile(r"(node|room):([A-Za-z0-9_.:-]{1,80}|\*)")


EVERY_NODE = "node:*"  # every node subscribes: orders about a person, wherever their sessions are


def node_topic(node_id: str) -> str:
    return check_topic(f"node:{node_id}")


def room_topic(room_id: str) -> str:
    return check_topic(f"room:{room_id}")


def check_topic(topic: str) -> str:
    if not _TOPIC.fullmatch(topic):
        raise InvalidInput("bad_topic", f"bus topics are node:<id> or room:<id> (got {topic!r})")
    return topic


@dataclass(frozen=True, slots=True)
class BusMessage:
    topic: str
    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""

    def encode(self) -> str:
        return json.dumps({"topic": self.topic, "kind": self.kind,
                           "payload": dict(self.payload), "origin": self.origin})

    @classmethod
    def decode(cls, raw: str | bytes) -> BusMessage:
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
            raise ValueError("bus message is not an object with a payload object")
        return cls(topic=str(data["topic"]), kind=str(data["kind"]),
                   payload=data["payload"], origin=str(data["origin"]))


class Inbox(Protocol):
    """Messages of one or more topics, through a bounded queue (oldest dropped when full)."""

    @property
    def dropped(self) -> int:
        """Messages lost because this subscriber was too slow."""
        ...

    async def get(self) -> BusMessage: ...

    def get_nowait(self) -> BusMessage | None: ...

    async def aclose(self) -> None: ...


class Bus(Protocol):
    @property
    def node_id(self) -> str: ...

    async def publish(self, topic: str, kind: str, payload: Mapping[str, Any]) -> None:
        """Send to every other node subscribed to ``topic`` (never back to this node)."""
        ...

    async def subscribe(self, *topics: str, maxsize: int = 256) -> Inbox: ...

    async def aclose(self) -> None: ...
